// One pipeline: everything built from one configuration, from the collectors to the exporter
// and the heartbeat. The agent (agent.ts) owns one at a time; reload.ts replaces it.
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { registerCollector, type CollectionResult } from '../collector/collector';
import { HostFs, type Clock } from '../procfs/host';
import { isHostWideKernelFile, KeptFilesHostFs } from '../procfs/kept-files';
import { DirectProducer } from '../collector/direct';
import { ProcessResources } from '../collector/process/resource';
import { enabledFactories } from '../collector/registry';
import { exportObservedOnly, ObservedSeries } from '../collector/series';
import { BootStartTimes, hostBootTimeMs } from '../collector/start-time';
import type { AgentConfig } from '../config/types';
import type { LatestExport } from '../api/prometheus';
import type { ExportTargetView } from '../api/status';
import { BufferRuntime } from '../buffer/runtime';
import type { ExportAccounting } from '../exporter/accounting';
import type { CollectdSender } from '../exporter/collectd/sender';
import { createMetricExporter } from '../exporter/metric-exporter';
import { stoppableTransport, type StoppableTransport } from '../exporter/stoppable-transport';
import type { RetryPolicy } from '../exporter/retrying-send';
import type { SpillSink } from '../exporter/types';
import { createTransport } from '../exporter/transport';
import type { HealthStatus } from '../health/server';
import { startHeartbeat } from '../heartbeat/start';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { exportWithReceived, ReceivedResources } from '../receiver/received';
import { VERSION } from '../version/version';
import { HeapTrim } from './heap-trim';
import { resolveAgentId } from './identity';
import { selfMetricsSource } from './self-metrics';
import { buildResource, readHostFacts, resourceAttributes } from './resource';

/**
 * The first export comes this long after start rather than a full interval later: long enough
 * for a second CPU snapshot, so that the first export already carries utilization.
 */
const FIRST_EXPORT_DELAY_MS = 1_000;
// The share of agent.shutdown_timeout the last sends may take; the rest spills and closes.
const SEND_SHARE_OF_SHUTDOWN = 0.8;
// Log records wait at most this long for others to share a request, and no more than this many do.
const LOGS_FLUSH_INTERVAL_MS = 1_000;
const LOGS_MAX_BATCH = 512;

/** What a pipeline needs from the agent that outlives it across reloads. */
export interface PipelineDeps {
  logger: Logger;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  health: HealthStatus;
  accounting: ExportAccounting;
  /** Each exported batch, for the local API's /metrics. */
  latestExport: LatestExport;
}

/**
 * Everything built from one configuration, in data-flow order: identity, resource, transport,
 * exporter, MeterProvider with its periodic reader, collectors. A reload stops one pipeline and
 * starts another; `stop` undoes `start` in reverse, final export included.
 */
export class Pipeline {
  /** How to undo each step taken so far; `stop` runs them last first. */
  private readonly undo: Array<() => void | Promise<void>> = [];
  private readonly unregister: Array<() => void> = [];
  private firstExport: NodeJS.Timeout | undefined;
  /** Where the export goes, for the local API's /status; undefined while no exporter runs. */
  exportTarget: ExportTargetView | undefined;

  private constructor(
    readonly config: AgentConfig,
    readonly agentId: string,
    private readonly deps: PipelineDeps,
  ) {}

  static async start(config: AgentConfig, deps: PipelineDeps): Promise<Pipeline> {
    const { logger, env, health } = deps;
    const host = new HostFs(config.host_root);

    const identity = resolveAgentId(config, host, logger);
    const pipeline = new Pipeline(config, identity.id, deps);
    health.agentId = identity.id;
    logger.info({ event: 'agent.identity', agent_id: identity.id, source: identity.source }, `agent id ${identity.id} (from ${identity.source})`);

    try {
      const resource = buildResource(resourceAttributes(config, identity.id, await readHostFacts(host), env));
      if (config.exporter.otlp.enabled) {
        await pipeline.startMetrics(host, resource);
      } else {
        logger.warn({ event: 'export.disabled' }, 'exporter.otlp.enabled is false: no metrics are collected or exported');
      }
      pipeline.startHeartbeat(host);
    } catch (err) {
      // Whatever was already built is released before the caller learns of the failure.
      await pipeline.stop();
      throw err;
    }
    return pipeline;
  }

  /** Transport, exporter, MeterProvider with its periodic reader, collectors; the first export. */
  private async startMetrics(host: HostFs, resource: Resource): Promise<void> {
    const { logger, health, accounting } = this.deps;
    const config = this.config;
    const interval = config.collectors.system.interval;
    // One send never outlasts most of the interval, so two exports never overlap, and the
    // reader waits the whole interval: a send that times out still has time to spill.
    const timeoutMs = Math.min(config.telemetryflow.timeout, Math.floor(interval * 0.8));
    const transport = stoppableTransport(createTransport(config, this.agentId));
    // The logs service's transport, made when something first sends or replays logs; closed last.
    let logsTransport: StoppableTransport | undefined;
    const logsTransportOf = (): StoppableTransport => (logsTransport ??= stoppableTransport(createTransport(config, this.agentId, undefined, 'logs')));
    this.onStop(async () => {
      await logsTransport?.close();
    });
    // The buffer opens before the exporter so that the first failed cycle can already spill.
    const spill = config.buffer.enabled ? BufferRuntime.start(config, transport, accounting, logger, logsTransportOf) : undefined;
    if (spill) {
      health.addProvider('buffer', () => spill.status());
      // Undone after the provider's shutdown (last step first): the final export can still spill.
      this.onStop(async () => {
        health.removeProvider('buffer');
        await spill.stop();
      });
    }
    this.exportTarget = { protocol: transport.protocol, target: transport.target };
    // The process family's points go out one resource per process.
    const processResources = config.collectors.process.enabled ? new ProcessResources() : undefined;
    const { retry } = config.telemetryflow;
    const retryPolicy = retry.enabled ? { maxAttempts: retry.max_attempts, initialMs: retry.initial_interval, maxMs: retry.max_interval } : undefined;
    const exporter = createMetricExporter({
      transport: spill?.liveTransport ?? transport,
      accounting,
      logger,
      timeoutMs,
      spill: spill?.buffer,
      limits: { maxPoints: config.exporter.otlp.batch_size, maxBytes: config.exporter.otlp.max_request_bytes },
      retry: retryPolicy,
      regroup: processResources === undefined ? undefined : (batch) => processResources.regroup(batch),
    });
    health.setExportSource(() => exporter.lastResult());

    const series = new ObservedSeries();
    const direct = new DirectProducer();
    const received = new ReceivedResources();
    // Before the provider: stopped after its final export (undo runs last step first), so that export goes out too.
    const collectdOut = await this.startCollectdExporter(resource);
    const trim = HeapTrim.fromRuntime();
    const onExport = (metrics: ResourceMetrics): void => {
      this.deps.latestExport.record(metrics);
      collectdOut?.send(metrics);
      // Once the export has encoded and sent the batch, whose garbage is then collectable.
      if (trim) setImmediate(() => trim.check());
    };
    // The system families' sums start at boot time, as the Collector's do.
    const starts = new BootStartTimes(await hostBootTimeMs(host, this.deps.clock));
    const reader = new PeriodicExportingMetricReader({
      exporter: exportWithReceived(exportObservedOnly(exporter, series, onExport, starts), received), exportIntervalMillis: interval, exportTimeoutMillis: interval, metricProducers: [direct],
    });
    const provider = new MeterProvider({ resource, readers: [reader] });
    this.unregister.push(direct.add(selfMetricsSource({ accounting, backlog: spill ? () => spill.buffer.stats() : undefined })));
    collectdOut?.registerMetrics(provider.getMeter('tfo-agent', VERSION));
    this.onStop(async () => {
      clearTimeout(this.firstExport);
      transport.stopWithin(Math.floor(config.agent.shutdown_timeout * SEND_SHARE_OF_SHUTDOWN));
      exporter.stopRetrying();
      logsTransport?.stopWithin(Math.floor(config.agent.shutdown_timeout * SEND_SHARE_OF_SHUTDOWN));
      // The reader's shutdown runs one final collection and export, then shuts the exporter (and
      // its transport) down; only then do the collectors go.
      await provider.shutdown();
      for (const unregister of this.unregister.splice(0)) unregister();
    });
    logger.info(
      { event: 'export.configured', protocol: transport.protocol, target: transport.target, interval_ms: interval },
      `exporting to ${transport.target} over ${transport.protocol} every ${interval} ms`,
    );

    this.startCollectors(provider, host, series, direct, starts);
    await this.startReceivers(provider, received, { transport: logsTransportOf, timeoutMs: config.exporter.otlp.logs.timeout || timeoutMs, retry: retryPolicy, spill: spill?.buffer });
    // A collection now gives every collector its first snapshot (and /ready its answer); the
    // forced flush a moment later is the first export.
    await reader.collect();
    if (interval > 2 * FIRST_EXPORT_DELAY_MS) {
      this.firstExport = setTimeout(() => void provider.forceFlush(), FIRST_EXPORT_DELAY_MS);
    }
  }

  private startCollectors(provider: MeterProvider, host: HostFs, series: ObservedSeries, direct: DirectProducer, starts: BootStartTimes): void {
    const { logger, clock, health } = this.deps;
    const naming = this.config.collectors.system.naming;
    const meter = provider.getMeter('tfo-agent', VERSION);
    const names: string[] = [];
    // The host-wide kernel files the families read every cycle stay open between cycles.
    const files = new KeptFilesHostFs(host.root, { keep: isHostWideKernelFile });
    for (const factory of enabledFactories(this.config, logger)) {
      try {
        const collector = factory.create({ host: files, clock, config: this.config, naming, logger: logger.child({ collector: factory.name }) });
        const streak = new FailureStreak(logger, `collector.${factory.name}`);
        const onResult = (result: CollectionResult): void => {
          health.recordCollection(result);
          if (result.ok) streak.success();
          else streak.failure(result.error ?? 'failed', { collector: result.collector });
          // Checked first: building the fields for a line that is not written costs every cycle.
          if (logger.level !== 'debug') return;
          const { error: err, ...measured } = result;
          logger.debug({ event: 'collection', ...measured, err }, 'collection');
        };
        this.unregister.push(registerCollector(meter, collector, naming, clock, onResult, series, direct));
        if (factory.family.section === 'system') starts.track(factory.family, naming);
        names.push(factory.name);
      } catch (err) {
        // One family that cannot start must not take the others down with it.
        logger.error({ event: 'collector.start_failed', collector: factory.name, err: errorMessage(err) }, `collector ${factory.name} not started`);
      }
    }
    // Closed once the collectors are gone, after the final collection.
    this.unregister.push(() => files.close());
    logger.info({ event: 'collectors.started', collectors: names, naming }, `collecting ${names.join(', ') || 'nothing'}`);
  }

  /** The collectd exporter: reads each batch the OTLP exporter gets (the same collection); loaded only when on. */
  private async startCollectdExporter(resource: Resource): Promise<CollectdSender | undefined> {
    const config = this.config.exporters.collectd;
    if (!config.enabled) return undefined;
    const { logger } = this.deps;
    const { CollectdSender } = require('../exporter/collectd/sender') as typeof import('../exporter/collectd/sender');
    const hostname = config.hostname !== '' ? config.hostname : String(resource.attributes['host.name'] ?? '');
    const sender = await CollectdSender.start({ config, hostname, intervalMs: this.config.collectors.system.interval, logger: logger.child({ exporter: 'collectd' }) });
    this.onStop(() => sender.stop());
    logger.info(
      { event: 'collectd.sending', server: config.server, security_level: config.security_level, hostname },
      `sending host metrics to collectd at ${config.server} as ${hostname} (security level ${config.security_level})`,
    );
    return sender;
  }

  /** Receivers of other hosts' data (collectd), feeding the same export; loaded only when on. */
  private async startReceivers(provider: MeterProvider, received: ReceivedResources, logsOut: { transport: () => StoppableTransport; timeoutMs: number; retry?: RetryPolicy; spill?: SpillSink }): Promise<void> {
    const collectd = this.config.receivers.collectd;
    if (!collectd.enabled) return;
    const { logger, accounting } = this.deps;
    const { startCollectdReceiver, notificationRecord } = require('../receiver/collectd/start') as typeof import('../receiver/collectd/start');
    const { LogPipeline } = require('../logs/pipeline') as typeof import('../logs/pipeline');
    const logs = new LogPipeline({ transport: logsOut.transport(), accounting, logger, timeoutMs: logsOut.timeoutMs, retry: logsOut.retry, flushIntervalMs: LOGS_FLUSH_INTERVAL_MS, maxBatch: LOGS_MAX_BATCH, spill: logsOut.spill });
    const receiver = await startCollectdReceiver(collectd, logger, provider.getMeter('tfo-agent', VERSION), (n) => logs.emit(notificationRecord(n, Date.now())));
    received.add((nowMs) => receiver.drain(nowMs));
    this.deps.health.addProvider('collectd', () => ({ addresses: receiver.addresses, packets: receiver.stats.packets, value_lists: receiver.stats.valueLists, dropped: Object.fromEntries(receiver.stats.dropped) }));
    // Closed before the provider's final export (undo runs last first): that export takes what arrived until then.
    this.onStop(async () => {
      this.deps.health.removeProvider('collectd');
      receiver.stop();
      await logs.stop();
    });
  }

  /** The heartbeat to the TelemetryFlow API: its own loop beside the OTLP pipeline. */
  private startHeartbeat(host: HostFs): void {
    const { logger, clock, env, health } = this.deps;
    const heartbeat = startHeartbeat({ config: this.config, agentId: this.agentId, logger, host, clock, env });
    health.addProvider('heartbeat', () => heartbeat.status());
    this.onStop(async () => {
      health.removeProvider('heartbeat');
      await heartbeat.stop();
    });
  }

  /** Registers the undo of a step just taken (close a buffer, stop a heartbeat). */
  onStop(step: () => void | Promise<void>): void {
    this.undo.push(step);
  }

  /** Stops collecting, exports one last time, and releases everything, last step first. */
  async stop(): Promise<void> {
    for (const step of this.undo.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        this.deps.logger.error({ event: 'pipeline.stop_step_failed', err: errorMessage(err) }, `while stopping: ${errorMessage(err)}`);
      }
    }
    this.deps.health.resetCollections();
  }
}
