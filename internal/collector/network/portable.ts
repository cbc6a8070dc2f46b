import type { BatchObservableResult } from '@opentelemetry/api';
import { networkStats } from 'systeminformation';
import { portableFactory, type Collector, type FamilyContext } from '../collector';
import type { MetricKey } from '../declaration';
import { NameFilter } from '../match';
import type { MetricSink } from '../naming';
import { family, metrics, type NetworkSettings } from './declaration';
import { interfacePoints } from './procfs';
import type { NetDevStat } from '../../procfs/netdev';

/** si's interface counters as a /proc/net/dev row; counters si does not give are NaN (not reported). */
export function netDevFromSi(s: { iface: string; rx_bytes: number; tx_bytes: number; rx_errors: number; tx_errors: number; rx_dropped: number; tx_dropped: number }): NetDevStat {
  const unknown = Number.NaN;
  return {
    name: s.iface,
    rxBytes: s.rx_bytes, rxPackets: unknown, rxErrors: s.rx_errors, rxDropped: s.rx_dropped, rxFifo: unknown, rxFrame: unknown, rxCompressed: unknown, rxMulticast: unknown,
    txBytes: s.tx_bytes, txPackets: unknown, txErrors: s.tx_errors, txDropped: s.tx_dropped, txFifo: unknown, txCollisions: unknown, txCarrier: unknown, txCompressed: unknown,
  };
}

/**
 * Interface counters through si.networkStats('*') (macOS: `netstat`; Windows: PowerShell). No
 * packet counts (si has none) and no connection table (si.networkConnections runs netstat or
 * lsof on every call).
 */
class PortableNetworkCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;
  private readonly interfaces: NameFilter;

  constructor(ctx: FamilyContext<NetworkSettings>) {
    this.interfaces = NameFilter.of('collectors.system.network_options', ctx.settings);
  }

  serves(key: MetricKey<typeof metrics>): boolean {
    return key === 'io' || key === 'errors' || key === 'dropped';
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    for (const stats of await networkStats('*')) {
      if (!this.interfaces.accepts(stats.iface)) continue;
      // observe() drops the NaN packet counts.
      for (const [key, value, attrs] of interfacePoints(netDevFromSi(stats))) out.observe(result, key, value, attrs);
    }
  }
}

export const factory = portableFactory(
  family,
  (platform) => (platform === 'linux' ? 'si.networkStats runs a shell per interface on every call on Linux' : undefined),
  (ctx) => new PortableNetworkCollector(ctx),
);
