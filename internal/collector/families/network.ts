import type { BatchObservableResult } from '@opentelemetry/api';
import type { Collector, CollectorContext, CollectorFactory } from '../collector';
import { NameFilter } from '../match';
import type { MetricDef, ProfileMetrics } from '../naming';
import { readNetDev, type NetDevStat } from '../../procfs/netdev';
import { TCP_STATE_NAMES, readTcpStates } from '../../procfs/tcp';

export const metrics = {
  io: { semconv: 'system.network.io', hostmetrics: 'system.network.io', kind: 'counter', unit: 'By', description: 'Bytes received and transmitted.' },
  packets: { semconv: 'system.network.packet.count', hostmetrics: 'system.network.packets', kind: 'counter', unit: '{packet}', description: 'Packets received and transmitted.' },
  errors: { semconv: 'system.network.errors', hostmetrics: 'system.network.errors', kind: 'counter', unit: '{error}', description: 'Receive and transmit errors.' },
  dropped: { semconv: 'system.network.packet.dropped', hostmetrics: 'system.network.dropped', kind: 'counter', unit: '{packet}', description: 'Packets dropped on receive and transmit.' },
  connections: { semconv: 'system.network.connection.count', hostmetrics: 'system.network.connections', kind: 'updowncounter', unit: '{connection}', description: 'TCP connections by state (IPv4 and IPv6).' },
} satisfies Record<string, MetricDef>;

export type NetworkMetric = keyof typeof metrics;

const RECEIVE = { 'network.io.direction': 'receive' };
const TRANSMIT = { 'network.io.direction': 'transmit' };

/** The points of one interface's counters; the portable backend builds a NetDevStat and reuses this. */
export function interfacePoints(n: NetDevStat): Array<[NetworkMetric, number, Record<string, string>]> {
  return [
    ['io', n.rxBytes, RECEIVE],
    ['io', n.txBytes, TRANSMIT],
    ['packets', n.rxPackets, RECEIVE],
    ['packets', n.txPackets, TRANSMIT],
    ['errors', n.rxErrors, RECEIVE],
    ['errors', n.txErrors, TRANSMIT],
    ['dropped', n.rxDropped, RECEIVE],
    ['dropped', n.txDropped, TRANSMIT],
  ];
}

/** Every state once, zero when no socket is in it, so that each series is continuous. */
export function connectionPoints(counts: Map<string, number>): Array<[number, Record<string, string>]> {
  return TCP_STATE_NAMES.map((state) => [counts.get(state) ?? 0, { 'network.transport': 'tcp', 'network.connection.state': state }]);
}

class NetworkCollector implements Collector {
  readonly name = 'network';
  readonly metrics = metrics;
  private readonly interfaces: NameFilter;
  private connections: { counts: Map<string, number>; readAt: number } | undefined;

  constructor(private readonly ctx: CollectorContext) {
    this.interfaces = NameFilter.of('collectors.system.network_options', ctx.config.collectors.system.network_options);
  }

  enabled(key: string): boolean {
    // Reading the connection tables costs real CPU on a busy server: only when asked.
    return key !== 'connections' || this.ctx.config.collectors.system.network_options.connections;
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    for (const n of await readNetDev(this.ctx.host)) {
      if (!this.interfaces.accepts(n.name)) continue;
      for (const [key, value, attrs] of interfacePoints(n)) out.observe(result, key, value, { 'network.interface.name': n.name, ...attrs });
    }
    if (!out.has('connections')) return;
    for (const [count, attrs] of connectionPoints(await this.connectionCounts())) out.observe(result, 'connections', count, attrs);
  }

  /**
   * Reading /proc/net/tcp makes the kernel walk its whole TCP hash table, whose size follows
   * the host's memory rather than its connection count (about 4 ms per table on a 24 GiB VM),
   * so the tables are walked at most once per connections_interval and the counts reused between.
   */
  private async connectionCounts(): Promise<Map<string, number>> {
    const every = this.ctx.config.collectors.system.network_options.connections_interval;
    const now = this.ctx.clock.monotonic();
    if (this.connections === undefined || now - this.connections.readAt >= every) {
      this.connections = { counts: await readTcpStates(this.ctx.host), readAt: now };
    }
    return this.connections.counts;
  }
}

export const factory: CollectorFactory = {
  name: 'network',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.network,
  create: (ctx) => new NetworkCollector(ctx),
};
