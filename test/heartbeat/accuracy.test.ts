import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { cpus } from 'node:os';
import { before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import type { SystemInfo } from '../../pkg/heartbeat';
import { heartbeatSchema } from '../../internal/heartbeat/schema';
import { SystemInfoBuilder, type BuiltSystemInfo } from '../../internal/heartbeat/system-info';
import { silentLogger } from '../../internal/log/logger';
import { delay, heartbeatConfig } from './helpers';

// The payload against this machine's kernel files, read here directly with the simplest parsing
// possible. Counters move while the payload is built, so they are bracketed by a reading taken
// before and one taken after.

const read = (path: string): string => readFileSync(path, 'utf8');
const meminfoKb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(read('/proc/meminfo'))![1]) * 1024;
const ctxt = (): number => Number(/^ctxt (\d+)/m.exec(read('/proc/stat'))![1]);
const wholeDisks = new Set(readdirSync('/sys/block').filter((d) => !/^(loop|ram|zram|dm-|md)/.test(d)));
const diskReads = (): number =>
  read('/proc/diskstats').split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => wholeDisks.has(c[2]!)).reduce((sum, c) => sum + Number(c[3]), 0);
const netRxBytes = (): number =>
  read('/proc/net/dev').split('\n').slice(2).filter((l) => l.includes(':')).map((l) => l.split(':'))
    .filter(([name]) => name!.trim() !== 'lo').reduce((sum, [, rest]) => sum + Number(rest!.trim().split(/\s+/)[0]), 0);
const processCount = (): number => readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length;

describe('heartbeat payload accuracy on this machine', () => {
  let built: BuiltSystemInfo;
  let info: SystemInfo;
  const bracket: Record<string, [number, number]> = {};

  before(async () => {
    const builder = new SystemInfoBuilder({ config: heartbeatConfig('', '/nonexistent'), logger: silentLogger() });
    await builder.prime();
    // Keep both CPUs a little busy so the interval has ticks in several modes.
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random());
    await delay(100);
    const start = { ctxt: ctxt(), reads: diskReads(), rx: netRxBytes(), procs: processCount() };
    built = await builder.build();
    const end = { ctxt: ctxt(), reads: diskReads(), rx: netRxBytes(), procs: processCount() };
    for (const key of Object.keys(start) as Array<keyof typeof start>) bracket[key] = [start[key], end[key]];
    info = built.systemInfo;
  });

  it('is valid against the schema and every source was read', () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(heartbeatSchema());
    assert.equal(validate({ systemInfo: info }), true, JSON.stringify(validate.errors));
    assert.deepEqual(built.problems, []);
  });

  it('memory agrees with /proc/meminfo', () => {
    assert.equal(info.memoryTotal, meminfoKb('MemTotal'));
    assert.equal(info.swapTotal, meminfoKb('SwapTotal'));
    const available = meminfoKb('MemAvailable');
    assert.ok(Math.abs(info.memoryAvailable - available) <= Math.max(64 * 2 ** 20, available * 0.05), `${info.memoryAvailable} vs ${available}`);
    assert.equal(info.memoryUsed, info.memoryTotal - info.memoryAvailable);
  });

  it('disk totals agree with /proc/diskstats and statfs', () => {
    const [before, after] = bracket.reads!;
    assert.ok(info.diskReadOps >= before && info.diskReadOps <= after, `${info.diskReadOps} not within [${before}, ${after}]`);
    const root = info.diskPartitions.find((p) => p.mountpoint === '/');
    assert.ok(root, 'the root file system is reported');
    const s = statfsSync('/');
    assert.equal(root.total, s.blocks * s.bsize);
    assert.ok(info.diskTotal >= root.total);
  });

  it('network totals agree with /proc/net/dev (loopback left out)', () => {
    const [before, after] = bracket.rx!;
    assert.ok(info.networkBytesRecv >= before && info.networkBytesRecv <= after, `${info.networkBytesRecv} not within [${before}, ${after}]`);
    assert.ok(info.networkInterfaces.some((i) => i.name === 'lo' && i.isLoopback));
  });

  it('process totals agree with /proc', () => {
    const [before, after] = bracket.procs!;
    assert.ok(info.processCount >= Math.min(before, after) - 5 && info.processCount <= Math.max(before, after) + 5, `${info.processCount} vs [${before}, ${after}]`);
    const states = info.processRunning + info.processSleeping + info.processStopped + info.processZombie + info.processBlocked;
    assert.ok(states <= info.processCount);
    assert.ok(info.threadCount >= info.processCount);
    const [c0, c1] = bracket.ctxt!;
    assert.ok(info.contextSwitches >= c0 && info.contextSwitches <= c1);
  });

  it('CPU percentages are current and sum to about 100, per core too', () => {
    const modes = [info.cpuUserPercent, info.cpuNicePercent, info.cpuSystemPercent, info.cpuIdlePercent, info.cpuIowaitPercent, info.cpuIrqPercent, info.cpuSoftirqPercent, info.cpuStealPercent];
    for (const m of modes) assert.equal(typeof m, 'number');
    const sum = modes.reduce((a, b) => a! + b!, 0)!;
    assert.ok(Math.abs(sum - 100) <= 0.1, `modes sum to ${sum}`);
    assert.ok(Math.abs(info.cpuUsage! - (100 - info.cpuIdlePercent! - info.cpuIowaitPercent!)) <= 0.02);
    assert.equal(info.cpuPerCore!.length, cpus().length);
    for (const core of info.cpuPerCore!) assert.ok(core.usage >= 0 && core.usage <= 100);
    assert.equal(info.cpuCores, cpus().length);
  });

  it('times are unix seconds and the boot time matches the uptime', () => {
    const uptime = Number(read('/proc/uptime').split(' ')[0]);
    assert.ok(Math.abs(info.bootTime - (Date.now() / 1000 - uptime)) <= 3);
    assert.ok(Math.abs(info.collectionTime - Date.now() / 1000) <= 5);
    assert.ok(info.collectionDuration > 0);
  });
});
