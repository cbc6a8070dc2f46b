// CPU and memory of the real peers, measured from the outside (/proc/<pid>/stat and status) so
// that they are counted exactly like the agent would be by an operator.
import { parseExposition } from '../support/prometheus-text';
import { COLLECTD, havePeer, NODE_EXPORTER, startCollectd, startNodeExporter } from '../support/peers';
import { processCpuMs, processRssMb } from './stats';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PeerFigures {
  /** CPU per collection cycle (collectd) or per scrape (node_exporter). */
  cpuPerCycleMs: number;
  cycles: number;
  rssMb: number;
  series?: number;
}

/**
 * collectd 5.12 with `plugins` every `intervalSeconds` for `seconds`, start-up excluded. CPU comes
 * in 10 ms ticks: a short interval gives enough cycles for a per-cycle figure finer than a tick.
 */
export async function measureCollectd(plugins: string[], seconds: number, intervalSeconds: number): Promise<PeerFigures | string> {
  if (!havePeer(COLLECTD)) return `${COLLECTD} not installed (apt-get install collectd-core)`;
  const peer = await startCollectd(plugins, intervalSeconds);
  try {
    // Its first cycle loads plugins and reads static data: start counting after it.
    await sleep(1500);
    const before = processCpuMs(peer.pid);
    await sleep(seconds * 1000);
    const cpu = processCpuMs(peer.pid) - before;
    const cycles = seconds / intervalSeconds;
    return { cpuPerCycleMs: cpu / cycles, cycles, rssMb: processRssMb(peer.pid) };
  } finally {
    await peer.stop();
  }
}

/** node_exporter with its default collectors, scraped `scrapes` times back to back. */
export async function measureNodeExporter(scrapes: number): Promise<PeerFigures | string> {
  if (!havePeer(NODE_EXPORTER)) return `${NODE_EXPORTER} not installed (apt-get install prometheus-node-exporter)`;
  // The textfile directory of the Debian package may not exist; point it at nothing.
  const peer = await startNodeExporter(undefined, ['--no-collector.textfile']);
  try {
    for (let i = 0; i < 3; i++) await peer.scrape();
    const before = processCpuMs(peer.pid);
    let series = 0;
    for (let i = 0; i < scrapes; i++) series = parseExposition(await peer.scrape()).samples.length;
    const cpu = processCpuMs(peer.pid) - before;
    return { cpuPerCycleMs: cpu / scrapes, cycles: scrapes, rssMb: processRssMb(peer.pid), series };
  } finally {
    await peer.stop();
  }
}
