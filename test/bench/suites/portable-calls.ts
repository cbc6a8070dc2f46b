// What each call the portable backend makes costs on this machine: CPU of the calling process
// plus the commands systeminformation started for it (children's time from /proc/self/stat), and
// wall time. Calls that run a command are why the registry keeps them off the Linux cycle. The
// calls run in a fresh process, so no child of another suite is counted.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpus, loadavg, uptime } from 'node:os';
import { cpu, fsSize, mem, networkStats, processes } from 'systeminformation';
import type { BenchSection } from '../section';
import { ownCpuMs, processCpuMs, round } from '../stats';

const childrenCpuMs = (): number => processCpuMs('self', 'children');

interface Call {
  name: string;
  run: () => unknown;
  times: number;
  /** systeminformation returns a cached answer inside 500 ms for some calls: wait that long. */
  gapMs?: number;
}

const CALLS: Call[] = [
  { name: 'os.cpus()', run: () => cpus(), times: 500 },
  { name: 'os.loadavg()', run: () => loadavg(), times: 500 },
  { name: 'os.uptime()', run: () => uptime(), times: 500 },
  { name: 'si.mem()', run: () => mem(), times: 100 },
  { name: 'si.fsSize()', run: () => fsSize(), times: 10 },
  { name: 'si.cpu()', run: () => cpu(), times: 3 },
  { name: "si.networkStats('*')", run: () => networkStats('*'), times: 8, gapMs: 550 },
  { name: 'si.processes()', run: () => processes(), times: 5, gapMs: 550 },
];

type Row = Array<string | number>;

async function measure(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const call of CALLS) {
    await call.run(); // first call: module state, caches
    let cpuMs = 0;
    let childMs = 0;
    let wallMs = 0;
    for (let i = 0; i < call.times; i++) {
      if (call.gapMs) await new Promise((r) => setTimeout(r, call.gapMs));
      const [own, children, started] = [ownCpuMs(), childrenCpuMs(), performance.now()];
      await call.run();
      wallMs += performance.now() - started;
      cpuMs += ownCpuMs() - own;
      childMs += childrenCpuMs() - children;
    }
    rows.push([call.name, round(cpuMs / call.times, 3), round(childMs / call.times, 2), round(wallMs / call.times, 2), call.times]);
  }
  return rows;
}

export async function run(): Promise<BenchSection> {
  const { stdout } = await promisify(execFile)(process.execPath, [__filename]);
  const rows = JSON.parse(stdout) as Row[];
  return {
    title: `systeminformation calls on ${process.platform}: cost per call`,
    figures: [],
    notes: ['child CPU is counted in 10 ms ticks when the child is reaped: an average over the calls'],
    tables: [{ title: 'per call', columns: ['call', 'agent CPU ms', 'child processes CPU ms', 'wall ms', 'calls'], rows }],
  };
}

if (require.main === module) {
  measure().then((rows) => process.stdout.write(JSON.stringify(rows) + '\n'));
}
