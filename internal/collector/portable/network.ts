import type { BatchObservableResult } from '@opentelemetry/api';
import { networkStats } from 'systeminformation';
import type { Collector, CollectorContext } from '../collector';
import { factory as procfs, interfacePoints, metrics } from '../families/network';
import { NameFilter } from '../match';
import type { ProfileMetrics } from '../naming';
import type { PortableFactory } from '../registry';
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
class PortableNetworkCollector implements Collector {
  readonly name = 'network';
  readonly metrics = metrics;
  private readonly interfaces: NameFilter;

  constructor(ctx: CollectorContext) {
    this.interfaces = NameFilter.of('collectors.system.network_options', ctx.config.collectors.system.network_options);
  }

  enabled(key: string): boolean {
    return key === 'io' || key === 'errors' || key === 'dropped';
  }

  async collect(result: BatchObservableResult, out: ProfileMetrics<string>): Promise<void> {
    for (const stats of await networkStats('*')) {
      if (!this.interfaces.accepts(stats.iface)) continue;
      // observe() drops the NaN packet counts.
      for (const [key, value, attrs] of interfacePoints(netDevFromSi(stats))) out.observe(result, key, value, { 'network.interface.name': stats.iface, ...attrs });
    }
  }
}

export const factory: PortableFactory = {
  name: procfs.name,
  enabled: procfs.enabled,
  unsupported: (platform) => (platform === 'linux' ? 'si.networkStats runs a shell per interface on every call on Linux' : undefined),
  create: (ctx) => new PortableNetworkCollector(ctx),
};
