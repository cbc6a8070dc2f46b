// The collectd exporter: each batch the OTLP exporter is handed, in collectd's vocabulary, as
// UDP packets to a collectd server (unicast or a multicast group), signed or encrypted as
// configured. It reads the batch and never changes it: the OTLP export and its accounting go on
// as if it were not there.
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { BatchObservableResult, Meter } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { CollectdExporterConfig } from '../../config/types';
import { errorMessage, type Logger } from '../../log/logger';
import { FailureStreak } from '../../log/streak';
import { PacketWriter } from '../../receiver/collectd/encode';
import { membershipInterface, parseListenAddress, type ListenAddress } from '../../receiver/collectd/receiver';
import { builtinTypesDb, type TypesDb } from '../../receiver/collectd/types-db';
import { toValueLists } from './vocabulary';

const SERVER_KEY = 'exporters.collectd.server';

export const COLLECTD_SENDER_METRICS = {
  packets: 'tfo_agent.collectd.sent.packets',
  valueLists: 'tfo_agent.collectd.sent.value_lists',
  errors: 'tfo_agent.collectd.send_errors',
} as const;

export class CollectdSenderStats {
  packets = 0;
  bytes = 0;
  valueLists = 0;
  errors = 0;
}

export interface CollectdSenderOptions {
  config: CollectdExporterConfig;
  /** The host part of the value lists: exporters.collectd.hostname, else the agent's host name. */
  hostname: string;
  /** The collection interval, sent as each value list's interval. */
  intervalMs: number;
  logger: Logger;
}

/** The socket family of the server: from its address, or from what its name resolves to now. */
async function familyOf(address: ListenAddress, logger: Logger): Promise<'udp4' | 'udp6'> {
  const literal = isIP(address.host);
  if (literal !== 0) return literal === 6 ? 'udp6' : 'udp4';
  try {
    return (await lookup(address.host)).family === 6 ? 'udp6' : 'udp4';
  } catch (err) {
    // Resolved again on every send; IPv4 until the name resolves.
    logger.warn({ event: 'collectd.server_unresolved', server: address.host, err: errorMessage(err) }, `collectd server ${address.host} does not resolve yet: ${errorMessage(err)}`);
    return 'udp4';
  }
}

export class CollectdSender {
  readonly stats = new CollectdSenderStats();
  private readonly writer: PacketWriter;
  private readonly types: TypesDb = builtinTypesDb();
  private readonly streak: FailureStreak;
  /** Packets handed to the socket and not yet sent; stop waits for them. */
  private inFlight = 0;
  private drained: (() => void) | undefined;

  private constructor(
    private readonly options: CollectdSenderOptions,
    private readonly socket: Socket,
    private readonly address: ListenAddress,
  ) {
    const { config } = options;
    this.streak = new FailureStreak(options.logger, 'export.collectd');
    this.writer = new PacketWriter(config.max_packet_size, { level: config.security_level, username: config.username, password: config.password }, (packet) => this.sendPacket(packet));
  }

  static async start(options: CollectdSenderOptions): Promise<CollectdSender> {
    const address = parseListenAddress(options.config.server, SERVER_KEY);
    const socket = createSocket(await familyOf(address, options.logger));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => options.logger.warn({ event: 'collectd.socket_error', server: options.config.server, err: err.message }, `collectd exporter socket: ${err.message}`));
    try {
      if (address.multicast) {
        // As collectd's network plugin: a group reached on the named interface, looped back to
        // listeners on this host too.
        const iface = membershipInterface(address, SERVER_KEY);
        if (iface !== undefined) socket.setMulticastInterface(iface);
        socket.setMulticastLoopback(true);
      }
    } catch (err) {
      socket.close();
      throw err;
    }
    return new CollectdSender(options, socket, address);
  }

  /** One exported batch: its host metrics as value lists, in packets filled up to the limit. Never throws. */
  send(batch: ResourceMetrics): void {
    try {
      const valueLists = toValueLists(batch, this.options.hostname, this.options.intervalMs, this.types);
      for (const vl of valueLists) this.writer.addValueList(vl);
      this.writer.flush();
      this.stats.valueLists += valueLists.length;
    } catch (err) {
      this.stats.errors += 1;
      this.streak.failure(errorMessage(err), { server: this.options.config.server });
    }
  }

  private sendPacket(packet: Buffer): void {
    this.inFlight += 1;
    this.socket.send(packet, this.address.port, this.address.host, (err) => {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.drained?.();
      if (err) {
        this.stats.errors += 1;
        this.streak.failure(err.message, { server: this.options.config.server });
        return;
      }
      this.stats.packets += 1;
      this.stats.bytes += packet.length;
      this.streak.success({ server: this.options.config.server });
    });
  }

  /** The sender's counters among the agent's own metrics. */
  registerMetrics(meter: Meter): void {
    const packets = meter.createObservableCounter(COLLECTD_SENDER_METRICS.packets, { description: 'collectd packets sent.', unit: '{packet}' });
    const valueLists = meter.createObservableCounter(COLLECTD_SENDER_METRICS.valueLists, { description: 'collectd value lists sent.', unit: '{value_list}' });
    const errors = meter.createObservableCounter(COLLECTD_SENDER_METRICS.errors, { description: 'collectd packets not sent (socket or resolution errors).', unit: '{packet}' });
    meter.addBatchObservableCallback((result: BatchObservableResult) => {
      result.observe(packets, this.stats.packets);
      result.observe(valueLists, this.stats.valueLists);
      result.observe(errors, this.stats.errors);
    }, [packets, valueLists, errors]);
  }

  /** Closes the socket once the packets of the last batch are out (at most `waitMs` later). */
  async stop(waitMs = 1000): Promise<void> {
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    try {
      this.socket.close();
    } catch {
      // Already closed.
    }
  }
}
