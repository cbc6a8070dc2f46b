// Resident memory of the real agent after a few hundred cycles, next to collectd and node_exporter
// doing the same job over the same period. The agent is the built CLI on the default collector
// set with the health listener and the buffer on (as shipped), exporting every second over gRPC to
// the test receiver, with the NODE_OPTIONS of the systemd unit and the image.
//
// Why minutes and not seconds: V8 lets the old generation fill with garbage up to a limit before a
// full collection, so a process's RSS climbs for the first minutes and then holds. A 40 s run read
// 6 MB less than the same agent held after 100 s.
import { readFileSync } from 'node:fs';
import { COLLECTD, havePeer, NODE_EXPORTER, startCollectd, startNodeExporter, type RunningPeer } from '../../support/peers';
import { startAgent } from '../agent-process';
import type { BenchFigure, BenchSection } from '../section';
import { processCpuMs, processRssMb, round } from '../stats';

const SECONDS = Number(process.env.BENCH_MEMORY_SECONDS ?? 300);
const SAMPLE_MS = 5_000;
const COLLECTD_FULL = ['cpu', 'memory', 'load', 'uptime', 'disk', 'interface', 'df', 'processes', 'swap'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function peakRssMb(pid: number): number {
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

export async function run(): Promise<BenchSection> {
  const agent = await startAgent({ intervalSeconds: 1 });
  const agentPid = agent.pid;
  const peers: Array<{ name: string; peer: RunningPeer; scrape?: () => Promise<unknown> }> = [];
  const notes: string[] = [];
  try {
    if (havePeer(COLLECTD)) peers.push({ name: `collectd (${COLLECTD_FULL.join(' ')}), 1 s`, peer: await startCollectd(COLLECTD_FULL, 1) });
    else notes.push(`${COLLECTD} not installed: no collectd figure`);
    if (havePeer(NODE_EXPORTER)) {
      const exporter = await startNodeExporter(undefined, ['--no-collector.textfile']);
      peers.push({ name: 'node_exporter (default collectors), scraped every 1 s', peer: exporter, scrape: () => exporter.scrape() });
    } else notes.push(`${NODE_EXPORTER} not installed: no node_exporter figure`);

    const samples: number[] = [];
    const peerSamples = peers.map(() => [] as number[]);
    const started = Date.now();
    const cpuBefore = processCpuMs(agentPid);
    const peerCpuBefore = peers.map((p) => processCpuMs(p.peer.pid));
    for (let second = 1; second <= SECONDS; second++) {
      await sleep(Math.max(0, started + second * 1000 - Date.now()));
      if (agent.exited()) throw new Error(`the agent exited; it logged:\n${agent.log()}`);
      for (const p of peers) await p.scrape?.();
      if ((second * 1000) % SAMPLE_MS === 0) {
        samples.push(processRssMb(agentPid));
        peers.forEach((p, i) => peerSamples[i].push(processRssMb(p.peer.pid)));
      }
    }
    const cpuMs = processCpuMs(agentPid) - cpuBefore;
    const peerCpuMs = peers.map((p, i) => processCpuMs(p.peer.pid) - peerCpuBefore[i]);
    const exports = agent.exports();
    if (exports < SECONDS / 2) throw new Error(`only ${exports} exports arrived in ${SECONDS} s; the agent logged:\n${agent.log()}`);

    // The last third: after the first full collections, where the figure holds.
    const steady = (values: number[]): number => mean(values.slice(Math.floor((values.length * 2) / 3)));
    const agentSteady = steady(samples);
    const figures: BenchFigure[] = [
      { name: 'agent: RSS, last third of the run', value: round(agentSteady, 1), unit: 'MB', detail: `${exports} exports in ${SECONDS} s; NODE_OPTIONS ${agent.nodeOptions}` },
      { name: 'agent: RSS, highest sample', value: round(Math.max(...samples), 1), unit: 'MB', ...(samples.length >= 60_000 / SAMPLE_MS ? { detail: `at 60 s: ${round(samples[60_000 / SAMPLE_MS - 1], 1)} MB` } : {}) },
      { name: 'agent: peak RSS (VmHWM)', value: round(peakRssMb(agentPid), 1), unit: 'MB' },
      { name: 'agent: CPU per cycle, whole process', value: round(cpuMs / SECONDS, 2), unit: 'ms', detail: 'one collection and export per second; timers, GC, self-metrics and the health listener included' },
    ];
    peers.forEach((p, i) => {
      const peer = p.name.split(' ')[0];
      const rss = steady(peerSamples[i]);
      figures.push({ name: `${p.name}: RSS`, value: round(rss, 1), unit: 'MB' });
      figures.push({ name: `agent RSS / ${peer} RSS`, value: round(agentSteady / rss, 2), unit: 'x' });
      figures.push({ name: `${peer}: CPU per ${p.scrape ? 'scrape' : 'cycle'}, whole process`, value: round(peerCpuMs[i] / SECONDS, 2), unit: 'ms' });
      figures.push({ name: `agent CPU / ${peer} CPU, per cycle at 1 s`, value: round(cpuMs / peerCpuMs[i], 2), unit: 'x' });
    });
    notes.push('RSS from /proc/<pid>/status (VmRSS) every 5 s, CPU from /proc/<pid>/stat over the run; all three run at once, so they see the same host.');
    notes.push(`BENCH_MEMORY_SECONDS=${SECONDS}; below about 120 s the agent's figure is not yet steady.`);
    return { title: `Resident memory after ${SECONDS} cycles (real agent, shipped settings)`, figures, notes };
  } finally {
    await Promise.all([agent.stop(), ...peers.map((p) => p.peer.stop())]);
  }
}
