// The agent's collection-and-export cycle against collectd and node_exporter, in one run:
// issue 2's four families, the full default set, the full set with 100 tracked processes, the
// portable backend, and a CPU profile of the full-set cycle.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startOtlpReceiver } from '../../support/otlp-receiver';
import { SYSTEM_FAMILIES, type CycleJob, type CycleReport } from '../cycle-worker';
import { measureCollectd, measureNodeExporter, type PeerFigures } from '../peers-measure';
import { summariseProfile, type CpuProfile } from '../profile';
import type { BenchFigure, BenchSection } from '../section';
import { median, quantile, round } from '../stats';

const CYCLES = Number(process.env.BENCH_CYCLES ?? 300);
const WARMUP = 20;
const FAMILY_CYCLES = Math.min(CYCLES, 100);
const PEER_SECONDS = Number(process.env.BENCH_PEER_SECONDS ?? 60);
// 300 cycles in 60 s: collectd's per-cycle CPU is below one 10 ms tick, so it needs many cycles
// (over 100 cycles of 0.5 ms, one tick more or less moved its figure, and our ratio, by 20%).
const COLLECTD_INTERVAL_SECONDS = 0.2;
const SCRAPES = 50;
const TRACKED_PROCESSES = 100;
const SLEEPER = 'tfo-bench-sleeper';

const COLLECTD_ISSUE2 = ['cpu', 'memory', 'load', 'uptime'];
const COLLECTD_FULL = [...COLLECTD_ISSUE2, 'disk', 'interface', 'df', 'processes', 'swap'];

async function runWorker(job: CycleJob): Promise<CycleReport> {
  const worker = join(__dirname, '..', 'cycle-worker.js');
  // The bench's own node flags reach the worker, so `node --max-opt=4 dist/test/bench/run.js
  // collection` measures a V8 flag against the agent's own (a flag on the command line wins).
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, worker, JSON.stringify(job)], { maxBuffer: 256 * 2 ** 20 });
  return JSON.parse(stdout) as CycleReport;
}

/** 100 sleeping processes under a name of their own, so the process collector matches them only. */
function spawnSleepers(count: number): { children: ChildProcess[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-bench-'));
  const binary = join(dir, SLEEPER);
  copyFileSync('/bin/sleep', binary);
  const children = Array.from({ length: count }, () => spawn(binary, ['3600'], { stdio: 'ignore' }));
  return { children, dir };
}

async function stopSleepers({ children, dir }: { children: ChildProcess[]; dir: string }): Promise<void> {
  await Promise.all(
    children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })),
  );
  rmSync(dir, { recursive: true, force: true });
}

function cycleFigures(label: string, report: CycleReport): BenchFigure[] {
  const n = report.cpuPerCycleMs.length;
  return [
    { name: `${label}: CPU per cycle, median`, value: round(median(report.cpuPerCycleMs), 3), unit: 'ms', detail: `${n} cycles` },
    { name: `${label}: CPU per cycle, p95`, value: round(quantile(report.cpuPerCycleMs, 0.95), 3), unit: 'ms' },
    { name: `${label}: CPU per cycle, mean incl. GC`, value: round(report.totalCpuMs / n, 3), unit: 'ms', detail: `user ${round(report.userMs / n, 2)} + kernel ${round(report.systemMs / n, 2)}` },
    { name: `${label}: series per export`, value: report.series, unit: 'points', detail: report.collectors.join(',') },
    { name: `${label}: RSS after cycles`, value: round(report.rssMb, 1), unit: 'MB', detail: `heap used ${round(report.heapUsedMb, 1)} MB` },
  ];
}

function peerFigures(label: string, peer: PeerFigures | string, notes: string[]): BenchFigure[] {
  if (typeof peer === 'string') {
    notes.push(`${label} skipped: ${peer}`);
    return [];
  }
  const figures: BenchFigure[] = [
    { name: `${label}: CPU per cycle`, value: round(peer.cpuPerCycleMs, 3), unit: 'ms', detail: `${peer.cycles} cycles, from /proc/<pid>/stat in 10 ms ticks` },
    { name: `${label}: RSS`, value: round(peer.rssMb, 1), unit: 'MB' },
  ];
  if (peer.series !== undefined) figures.push({ name: `${label}: series per scrape`, value: peer.series, unit: 'samples' });
  return figures;
}

function ratio(name: string, ours: number, peer: PeerFigures | string, goal: string): BenchFigure[] {
  if (typeof peer === 'string' || peer.cpuPerCycleMs === 0) return [];
  return [{ name, value: round(ours / peer.cpuPerCycleMs, 2), unit: 'x', detail: `goal ${goal}` }];
}

export async function run(): Promise<BenchSection> {
  const receiver = await startOtlpReceiver();
  const notes: string[] = [];
  const figures: BenchFigure[] = [];
  const job = (families: CycleJob['families'], extra: Partial<CycleJob> = {}): CycleJob => ({
    endpoint: receiver.grpcAddress, families, backend: 'procfs', cycles: CYCLES, warmup: WARMUP, ...extra,
  });
  try {
    const issue2 = await runWorker(job('issue2'));
    receiver.reset();
    const full = await runWorker(job('full'));
    receiver.reset();
    const sleepers = spawnSleepers(TRACKED_PROCESSES);
    let tracked: CycleReport;
    let untracked: CycleReport;
    let untrackedHttp: CycleReport;
    let trackedHttp: CycleReport;
    try {
      // The same host both times: the processes family counts the sleepers either way, so the
      // difference is what tracking them costs.
      untracked = await runWorker(job('full'));
      receiver.reset();
      tracked = await runWorker(job('full', { processes: [SLEEPER] }));
      receiver.reset();
      // The same work over OTLP/HTTP (HTTP/1.1 keep-alive), both protocols gzip at level 1.
      const http = { protocol: 'http' as const, endpoint: receiver.httpUrl };
      untrackedHttp = await runWorker(job('full', http));
      receiver.reset();
      trackedHttp = await runWorker(job('full', { ...http, processes: [SLEEPER] }));
    } finally {
      await stopSleepers(sleepers);
    }
    receiver.reset();
    const portable = await runWorker(job('issue2', { backend: 'systeminformation' }));
    receiver.reset();
    const profiled = await runWorker(job('full', { profile: true }));
    receiver.reset();
    const perFamily: Array<[string, CycleReport]> = [];
    for (const family of SYSTEM_FAMILIES) {
      perFamily.push([family, await runWorker(job(family, { cycles: FAMILY_CYCLES }))]);
      receiver.reset();
    }

    const collectd2 = await measureCollectd(COLLECTD_ISSUE2, PEER_SECONDS, COLLECTD_INTERVAL_SECONDS);
    const collectdFull = await measureCollectd(COLLECTD_FULL, PEER_SECONDS, COLLECTD_INTERVAL_SECONDS);
    const nodeExporter = await measureNodeExporter(SCRAPES);

    figures.push(...cycleFigures('4 families (cpu, memory, load, system)', issue2));
    figures.push(...cycleFigures('full default set', full));
    figures.push(...cycleFigures(`full set, ${TRACKED_PROCESSES} more processes on the host, untracked`, untracked));
    figures.push(...cycleFigures(`full set + ${TRACKED_PROCESSES} tracked processes`, tracked));
    figures.push(...cycleFigures(`OTLP/HTTP: full set, ${TRACKED_PROCESSES} more processes, untracked`, untrackedHttp));
    figures.push(...cycleFigures(`OTLP/HTTP: full set + ${TRACKED_PROCESSES} tracked processes`, trackedHttp));
    figures.push(...cycleFigures('4 families, systeminformation backend', portable));
    figures.push(...peerFigures(`collectd (${COLLECTD_ISSUE2.join(' ')})`, collectd2, notes));
    figures.push(...peerFigures(`collectd (${COLLECTD_FULL.join(' ')})`, collectdFull, notes));
    figures.push(...peerFigures('node_exporter (defaults), per scrape', nodeExporter, notes));

    const mean = (r: CycleReport): number => r.totalCpuMs / r.cpuPerCycleMs.length;
    figures.push(...ratio('4 families / collectd', mean(issue2), collectd2, '<= 4x'));
    figures.push(...ratio('full set / collectd full', mean(full), collectdFull, '<= 3x'));
    figures.push(...ratio('full set / node_exporter per scrape', mean(full), nodeExporter, '< 1x'));
    figures.push({ name: `with ${TRACKED_PROCESSES} processes tracked / untracked`, value: round(mean(tracked) / mean(untracked), 2), unit: 'x', detail: 'goal < 2x' });
    figures.push({ name: `with ${TRACKED_PROCESSES} processes tracked / full set on the quieter host`, value: round(mean(tracked) / mean(full), 2), unit: 'x' });
    figures.push({ name: `OTLP/HTTP: with ${TRACKED_PROCESSES} processes tracked / untracked`, value: round(mean(trackedHttp) / mean(untrackedHttp), 2), unit: 'x', detail: 'goal < 2x' });
    if (full.skipped.length > 0) notes.push(`full set skipped: ${full.skipped.join('; ')}`);
    if (portable.skipped.length > 0) notes.push(`portable backend skipped: ${portable.skipped.join('; ')}`);
    notes.push(`collectd: its own config, interval ${COLLECTD_INTERVAL_SECONDS} s for ${PEER_SECONDS} s (same work per cycle as at 1 s, more cycles per tick), logfile only`);
    notes.push('ours: CPU of a separate process running the agent pipeline, one forceFlush (collect, encode, gRPC export, wait for the answer) per cycle, receiver in another process');

    const summary = summariseProfile(profiled.profile as CpuProfile);
    const perCycle = (ms: number): number => round(ms / profiled.cpuPerCycleMs.length, 3);
    return {
      title: 'Collection cycle (collect + OTLP/gRPC export) vs collectd and node_exporter',
      figures,
      notes,
      tables: [
        {
          title: `CPU profile of the full-set cycle, main thread only: areas (${profiled.cpuPerCycleMs.length} cycles, ${perCycle(summary.busyMs)} of ${round(profiled.totalCpuMs / profiled.cpuPerCycleMs.length, 2)} ms per cycle; the rest is the libuv pool and the kernel)`,
          columns: ['area', 'ms per cycle', 'share'],
          rows: summary.areas.map((a) => [a.area, perCycle(a.ms), `${(a.share * 100).toFixed(1)}%`]),
        },
        {
          title: 'CPU profile: top functions by self time (native ones: where they were called from)',
          columns: ['function', 'where', 'charged to', 'ms per cycle', 'share'],
          rows: summary.functions.map((f) => [f.fn, f.where, f.area, perCycle(f.ms), `${(f.share * 100).toFixed(1)}%`]),
        },
        {
          title: `CPU per cycle with one family alone (${FAMILY_CYCLES} cycles each; the export of its series included)`,
          columns: ['family', 'median ms', 'mean ms incl. GC', 'series'],
          rows: perFamily.map(([family, r]) => [family, round(median(r.cpuPerCycleMs), 3), round(mean(r), 3), r.series]),
        },
      ],
    };
  } finally {
    await receiver.close();
  }
}
