// What the agent costs an operator at a real cadence: whole processes (every thread, GC, timers,
// the health listener, code that runs too rarely to stay hot) beside collectd and node_exporter
// doing the same job over the same minutes. The goals of docs/PERFORMANCE.md are stated on these
// ratios; the collection suite's back-to-back cycle is the profiling harness.
//
// Per interval (BENCH_CADENCE_INTERVALS, seconds, default "1,15"), at once: the agent with the
// default set and with the four spine families, collectd with its full plugin set and with the
// same four plugins, node_exporter scraped at the interval. Then the agent between cycles: a 1 h
// interval, the buffer empty, with the local API off and on.
import { COLLECTD, havePeer, NODE_EXPORTER, startCollectd, startNodeExporter, type RunningPeer } from '../../support/peers';
import { processRunTimeMs, startAgent, type RunningAgent } from '../agent-process';
import type { BenchFigure, BenchSection } from '../section';
import { processCpuMs, processRssMb, round } from '../stats';

const INTERVALS = (process.env.BENCH_CADENCE_INTERVALS ?? '1,15').split(',').filter((s) => s !== '').map(Number);
/** Measured cycles per interval: 120 at 1 s, 20 at 15 s (5 minutes) unless set. */
const cyclesAt = (seconds: number): number => Number(process.env.BENCH_CADENCE_CYCLES ?? (seconds < 5 ? 120 : 20));
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 120);
// Holds the idle session's close (keepalive.interval, 30 s, after the export a second after start).
const CLOSE_WINDOW_SECONDS = 30;
/** Node/V8 flags for one more agent with the default set, measured beside the shipped one (a flag under test). */
const COMPARE_ARGS = (process.env.BENCH_CADENCE_COMPARE_ARGS ?? '').split(' ').filter((s) => s !== '');
/** Another build's CLI for that agent (the code before a change), with those flags if any. */
const COMPARE_CLI = process.env.BENCH_CADENCE_COMPARE_CLI;
const COMPARING = COMPARE_ARGS.length > 0 || COMPARE_CLI !== undefined;
const SPINE = ['cpu', 'memory', 'load', 'system'];
const COLLECTD_SPINE = ['cpu', 'memory', 'load', 'uptime'];
const COLLECTD_FULL = [...COLLECTD_SPINE, 'disk', 'interface', 'df', 'processes', 'swap'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Measured {
  name: string;
  pid: number;
  /** What one unit of work is: a cycle, a scrape. */
  per: string;
  /** Called at each interval boundary (node_exporter's scrape). */
  tick?: () => Promise<unknown>;
  stop(): Promise<void>;
  agent?: RunningAgent;
  before?: { runMs: number; statMs: number; exports: number };
  after?: { runMs: number; statMs: number; exports: number };
}

function sample(m: Measured): { runMs: number; statMs: number; exports: number } {
  return { runMs: processRunTimeMs(m.pid), statMs: processCpuMs(m.pid), exports: m.agent?.exports() ?? 0 };
}

function agentMeasured(name: string, agent: RunningAgent): Measured {
  return { name, pid: agent.pid, per: 'cycle', agent, stop: () => agent.stop() };
}

function peerMeasured(name: string, peer: RunningPeer, per: string, tick?: () => Promise<unknown>): Measured {
  return { name, pid: peer.pid, per, tick, stop: () => peer.stop() };
}

/** Runs `tick`s at each boundary of `intervalSeconds` for `cycles` intervals, all processes measured over the same window. */
async function measureWindow(processes: Measured[], intervalSeconds: number, cycles: number): Promise<void> {
  for (const m of processes) m.before = sample(m);
  const started = Date.now();
  for (let i = 1; i <= cycles; i++) {
    await sleep(Math.max(0, started + i * intervalSeconds * 1000 - Date.now()));
    for (const m of processes) {
      if (m.agent?.exited()) throw new Error(`${m.name} exited; it logged:\n${m.agent.log()}`);
      await m.tick?.();
    }
  }
  for (const m of processes) m.after = sample(m);
}

const cpuMs = (m: Measured): number => (m.after?.runMs ?? 0) - (m.before?.runMs ?? 0);
const statMs = (m: Measured): number => (m.after?.statMs ?? 0) - (m.before?.statMs ?? 0);

async function atInterval(seconds: number, notes: string[]): Promise<BenchFigure[]> {
  const cycles = cyclesAt(seconds);
  const processes: Measured[] = [];
  try {
    processes.push(agentMeasured('agent, default set', await startAgent({ intervalSeconds: seconds })));
    processes.push(agentMeasured('agent, 4 families (cpu memory load system)', await startAgent({ intervalSeconds: seconds, families: SPINE })));
    const compared = `agent, default set, node ${[...COMPARE_ARGS, COMPARE_CLI ?? ''].join(' ').trim()}`;
    if (COMPARING) processes.push(agentMeasured(compared, await startAgent({ intervalSeconds: seconds, nodeArgs: COMPARE_ARGS, cli: COMPARE_CLI })));
    if (havePeer(COLLECTD)) {
      processes.push(peerMeasured(`collectd (${COLLECTD_FULL.join(' ')})`, await startCollectd(COLLECTD_FULL, seconds), 'cycle'));
      processes.push(peerMeasured(`collectd (${COLLECTD_SPINE.join(' ')})`, await startCollectd(COLLECTD_SPINE, seconds), 'cycle'));
    } else notes.push(`${COLLECTD} not installed: no collectd figures`);
    if (havePeer(NODE_EXPORTER)) {
      const exporter = await startNodeExporter(undefined, ['--no-collector.textfile']);
      processes.push(peerMeasured('node_exporter (default collectors)', exporter, 'scrape', () => exporter.scrape()));
    } else notes.push(`${NODE_EXPORTER} not installed: no node_exporter figure`);

    // Start-up (module loading, the first cycles' compilation, collectd's plugin init) is not
    // what a running host pays: three cycles or 10 s, whichever is longer, before measuring.
    const warmup = Math.max(3, Math.ceil(10 / seconds));
    for (let i = 0; i < warmup; i++) {
      await sleep(seconds * 1000);
      for (const m of processes) await m.tick?.();
    }
    await measureWindow(processes, seconds, cycles);

    const figures: BenchFigure[] = [];
    const perCycle = new Map<string, number>();
    for (const m of processes) {
      const value = cpuMs(m) / cycles;
      perCycle.set(m.name, value);
      const exports = m.agent ? `, ${(m.after?.exports ?? 0) - (m.before?.exports ?? 0)} exports` : '';
      figures.push({
        name: `${seconds} s: ${m.name}, CPU per ${m.per}`,
        value: round(value, 3),
        unit: 'ms',
        detail: `${cycles} ${m.per}s${exports}; /proc/<pid>/stat: ${round(statMs(m) / cycles, 2)} ms; RSS ${round(processRssMb(m.pid), 1)} MB`,
      });
    }
    const ratio = (label: string, a: string, b: string, goal: string): void => {
      const x = perCycle.get(a);
      const y = perCycle.get(b);
      if (x !== undefined && y !== undefined) figures.push({ name: `${seconds} s: ${label}`, value: round(x / y, 2), unit: 'x', detail: goal });
    };
    ratio('agent default set / collectd full set', processes[0].name, `collectd (${COLLECTD_FULL.join(' ')})`, 'goal: at most 1.0x');
    ratio('agent default set / node_exporter per scrape', processes[0].name, 'node_exporter (default collectors)', 'goal: at most 0.6x');
    if (COMPARING) ratio('agent default set compared / as shipped', compared, processes[0].name, 'the flags or build under test');
    ratio('agent 4 families / collectd same 4 plugins', processes[1].name, `collectd (${COLLECTD_SPINE.join(' ')})`, seconds === 1 ? 'goal: at most 3x' : 'goal at 1 s only');
    return figures;
  } finally {
    await Promise.all(processes.map((m) => m.stop()));
  }
}

/** The agent with nothing to do: a 1 h interval after its first export, the buffer empty. */
async function betweenCycles(notes: string[]): Promise<BenchFigure[]> {
  const processes: Measured[] = [];
  try {
    processes.push(agentMeasured('api off', await startAgent({ intervalSeconds: 3600 })));
    processes.push(agentMeasured('api on (its 1 s sampler)', await startAgent({ intervalSeconds: 3600, api: true })));
    // The first export runs a second after start; let it and start-up's garbage settle.
    await sleep(15_000);
    for (const m of processes) if (m.agent && m.agent.exports() === 0) throw new Error(`${m.name}: no first export; it logged:\n${m.agent.log()}`);
    // Once per cycle, keepalive.interval (30 s) after the export: the idle gRPC session's close.
    await measureWindow(processes, CLOSE_WINDOW_SECONDS, 1);
    const closing = new Map(processes.map((m) => [m, cpuMs(m)]));
    await measureWindow(processes, IDLE_SECONDS, 1);
    notes.push(
      `Between cycles: interval 1 h, buffer on and empty, health listener on; ${CLOSE_WINDOW_SECONDS} s from 15 s after start (it holds the idle connection's close, keepalive.interval after the first export, once per cycle), then ${IDLE_SECONDS} s (BENCH_IDLE_SECONDS). Over a whole 1 h cycle: the first window's ms plus the second's rate for the rest of the hour.`,
    );
    return processes.map((m) => {
      const rate = cpuMs(m) / IDLE_SECONDS;
      const once = closing.get(m) ?? 0;
      return {
        name: `between cycles, ${m.name}: CPU per second`,
        value: round(rate, 4),
        unit: 'ms',
        detail: `goal: under 0.05 ms; ${round(cpuMs(m), 1)} ms over ${IDLE_SECONDS} s; ${round(once, 1)} ms in the ${CLOSE_WINDOW_SECONDS} s with the connection's close; a whole 1 h cycle ${round((once + rate * (3600 - 15 - CLOSE_WINDOW_SECONDS)) / 3600, 4)} ms/s`,
      };
    });
  } finally {
    await Promise.all(processes.map((m) => m.stop()));
  }
}

export async function run(): Promise<BenchSection> {
  const notes: string[] = [];
  const figures: BenchFigure[] = [];
  for (const seconds of INTERVALS) figures.push(...(await atInterval(seconds, notes)));
  if (IDLE_SECONDS > 0) figures.push(...(await betweenCycles(notes)));
  notes.push(
    'CPU of each whole process: every thread\'s run time from /proc/<pid>/task/*/schedstat (ns), the /proc/<pid>/stat figure (10 ms ticks) beside it; all processes of an interval run at once over the same minutes.',
    'Agents: the built CLI through bin/tfo-agentd (its V8 flags) with the systemd unit\'s NODE_OPTIONS, as the unit starts it (an older build without the launcher: its CLI on Node), gRPC to a loopback receiver each, buffer and health listener on, local API off; node_exporter is scraped by the bench at the interval.',
    `BENCH_CADENCE_INTERVALS=${INTERVALS.join(',')}, BENCH_CADENCE_CYCLES (default 120 at 1 s, 20 at 15 s), BENCH_IDLE_SECONDS=${IDLE_SECONDS} (0 skips), BENCH_CADENCE_COMPARE_ARGS (node flags of one more agent, e.g. "--max-opt=4": a V8 flag on the command line wins over the agent's own), BENCH_CADENCE_COMPARE_CLI (that agent from another build's dist/cmd/tfo-agent/main.js, e.g. the code before a change).`,
  );
  return { title: 'Whole processes at a real cadence, beside collectd and node_exporter', figures, notes };
}
