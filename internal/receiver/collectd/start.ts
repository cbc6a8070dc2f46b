// The collectd receiver in the agent's pipeline: sockets in, points out at each export, its
// counters among the agent's own metrics.
import { existsSync, readFileSync } from 'node:fs';
import type { Attributes, BatchObservableResult, Meter } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { LogRecord, SeverityText } from '../../logs/records';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { CollectdReceiverConfig } from '../../config/types';
import type { Logger } from '../../log/logger';
import { CollectdMetrics } from './convert';
import type { Notification } from './decode';
import { CollectdReceiver, type ReceiverStats } from './receiver';
import { builtinTypesDb, parseTypesDb, SYSTEM_TYPES_DB, type TypesDb } from './types-db';

/** The types.db files named, else the system's, else the built-in table. */
export function loadTypesDb(files: readonly string[], systemFile = SYSTEM_TYPES_DB): { db: TypesDb; source: string } {
  if (files.length > 0) {
    const db: TypesDb = new Map();
    for (const file of files) parseTypesDb(readFileSync(file, 'utf8'), file, db);
    return { db, source: files.join(', ') };
  }
  if (existsSync(systemFile)) return { db: parseTypesDb(readFileSync(systemFile, 'utf8'), systemFile), source: systemFile };
  return { db: builtinTypesDb(), source: 'built-in' };
}

const SEVERITIES: Record<Notification['severity'], SeverityText> = { failure: 'ERROR', warning: 'WARN', okay: 'INFO' };

/** A notification as a log record: FAILURE → ERROR, WARNING → WARN, OKAY → INFO; its sender is the resource. */
export function notificationRecord(n: Notification, nowMs: number): LogRecord {
  const attributes: Attributes = { host: n.host };
  if (n.plugin !== '') attributes.plugin = n.plugin;
  if (n.pluginInstance !== '') attributes.plugin_instance = n.pluginInstance;
  if (n.type !== '') attributes.type = n.type;
  if (n.typeInstance !== '') attributes.type_instance = n.typeInstance;
  return { time: n.time, observedTime: millisToHrTime(nowMs), severity: SEVERITIES[n.severity], body: n.message, attributes, resource: { 'host.name': n.host } };
}

export const COLLECTD_SELF_METRICS = {
  packets: 'tfo_agent.collectd.packets',
  valueLists: 'tfo_agent.collectd.value_lists',
  notifications: 'tfo_agent.collectd.notifications',
  dropped: 'tfo_agent.collectd.dropped',
  series: 'tfo_agent.collectd.series',
} as const;

export interface RunningCollectdReceiver {
  /** The points received since the last export, one resource per sending host. */
  drain(nowMs: number): ResourceMetrics[];
  readonly stats: ReceiverStats;
  readonly addresses: string[];
  stop(): void;
}

export async function startCollectdReceiver(
  config: CollectdReceiverConfig,
  logger: Logger,
  meter: Meter,
  onNotification: (n: Notification) => void = () => undefined,
): Promise<RunningCollectdReceiver> {
  const log = logger.child({ receiver: 'collectd' });
  const types = loadTypesDb(config.types_db);
  let receiver: CollectdReceiver | undefined;
  const metrics = new CollectdMetrics(types.db, config.max_series, (reason) => receiver?.stats.drop(reason));
  receiver = await CollectdReceiver.start({
    listen: config.listen,
    maxPacketSize: config.max_packet_size,
    securityLevel: config.security_level,
    authFile: config.auth_file,
    logger: log,
    onValueList: (vl) => metrics.add(vl, Date.now()),
    onNotification,
  });
  const running = receiver;
  // The counters live as long as the pipeline's MeterProvider, so its final export still reports them.
  registerCollectdSelfMetrics(meter, running.stats, () => metrics.seriesCount);
  log.info(
    { event: 'collectd.listening', addresses: running.addresses, security_level: config.security_level, types_db: types.source },
    `collectd receiver on ${running.addresses.join(', ')} (security level ${config.security_level}, types from ${types.source})`,
  );
  return {
    drain: (nowMs) => metrics.drain(nowMs),
    stats: running.stats,
    addresses: running.addresses,
    stop: () => running.stop(),
  };
}

function registerCollectdSelfMetrics(meter: Meter, stats: ReceiverStats, series: () => number): void {
  const packets = meter.createObservableCounter(COLLECTD_SELF_METRICS.packets, { description: 'collectd packets received.', unit: '{packet}' });
  const valueLists = meter.createObservableCounter(COLLECTD_SELF_METRICS.valueLists, { description: 'collectd value lists accepted.', unit: '{value_list}' });
  const notifications = meter.createObservableCounter(COLLECTD_SELF_METRICS.notifications, { description: 'collectd notifications accepted.', unit: '{notification}' });
  const dropped = meter.createObservableCounter(COLLECTD_SELF_METRICS.dropped, {
    description: 'collectd data not taken, by reason (bad_part_length, bad_values, bad_signature, decryption_failed, unknown_user, insecure, max_series, ...).',
    unit: '{item}',
  });
  const seriesGauge = meter.createObservableGauge(COLLECTD_SELF_METRICS.series, { description: 'collectd series kept.', unit: '{series}' });
  const observables = [packets, valueLists, notifications, dropped, seriesGauge];
  const callback = (result: BatchObservableResult): void => {
    result.observe(packets, stats.packets);
    result.observe(valueLists, stats.valueLists);
    result.observe(notifications, stats.notifications);
    for (const [reason, n] of stats.dropped) result.observe(dropped, n, { reason });
    result.observe(seriesGauge, series());
  };
  meter.addBatchObservableCallback(callback, observables);
}
