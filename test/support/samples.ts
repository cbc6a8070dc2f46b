import type { Sample } from '../../internal/api/sample';

/** A plausible sample at `ts` (unix seconds), with `overrides`. */
export function sampleAt(ts: number, overrides: Partial<Sample> = {}): Sample {
  return {
    ts_unix: ts, ts_iso: new Date(ts * 1000).toISOString(), host: 'web-1', cpu_total: 12.5, cpu_per_core: [10, 15],
    mem_percent: 40.25, mem_total: 8_000_000_000, mem_used: 3_220_000_000, swap_percent: 0, swap_total: 0, swap_used: 0,
    freq_mhz: 2596.14, load1: 0.5, load5: 0.25, load15: 0.1, disk_read_bps: 4096, disk_write_bps: 1024.5,
    net_rx_bps: 300.75, net_tx_bps: 120, root_fs_used_percent: 24.19, ...overrides,
  };
}
