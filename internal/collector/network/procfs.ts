import type { BatchObservableResult } from '@opentelemetry/api';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import { int, type Int, type Observation } from '../declaration';
import { NameFilter } from '../match';
import type { MetricSink } from '../naming';
import { family, metrics, type NetworkSettings } from './declaration';
import { readNetDev, type NetDevStat } from '../../procfs/netdev';
import { TCP_STATE_NAMES, readTcpStates } from '../../procfs/tcp';

/**
 * The points of one interface's counters, with their attributes; the portable backend builds a
 * NetDevStat and reuses this. The conventions name the interface `system.device` on packet counts
 * and `network.interface.name` on the others (both `device` under hostmetrics).
 */
export function interfacePoints(n: NetDevStat): Array<Observation<typeof metrics, Record<string, string>>> {
  const on = (key: string, direction: string): Record<string, string> => ({ [key]: n.name, 'network.io.direction': direction });
  const [rx, tx] = [on('network.interface.name', 'receive'), on('network.interface.name', 'transmit')];
  return [
    ['io', int(n.rxBytes), rx],
    ['io', int(n.txBytes), tx],
    ['packets', int(n.rxPackets), on('system.device', 'receive')],
    ['packets', int(n.txPackets), on('system.device', 'transmit')],
    ['errors', int(n.rxErrors), rx],
    ['errors', int(n.txErrors), tx],
    ['dropped', int(n.rxDropped), rx],
    ['dropped', int(n.txDropped), tx],
  ];
}

/** Every state once, zero when no socket is in it, so that each series is continuous. */
export function connectionPoints(counts: Map<string, number>): Array<[Int, Record<string, string>]> {
  return TCP_STATE_NAMES.map((state) => [int(counts.get(state) ?? 0), { 'network.transport': 'tcp', 'network.connection.state': state }]);
}

class NetworkCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;
  private readonly interfaces: NameFilter;
  private connections: { counts: Map<string, number>; readAt: number } | undefined;

  constructor(private readonly ctx: FamilyContext<NetworkSettings>) {
    this.interfaces = NameFilter.of('collectors.system.network_options', ctx.settings);
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    for (const n of await readNetDev(this.ctx.host)) {
      if (!this.interfaces.accepts(n.name)) continue;
      for (const [key, value, attrs] of interfacePoints(n)) out.observe(result, key, value, attrs);
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
    const every = this.ctx.settings.connections_interval;
    const now = this.ctx.clock.monotonic();
    if (this.connections === undefined || now - this.connections.readAt >= every) {
      this.connections = { counts: await readTcpStates(this.ctx.host), readAt: now };
    }
    return this.connections.counts;
  }
}

export const factory = collectorFactory(family, (ctx) => new NetworkCollector(ctx));
