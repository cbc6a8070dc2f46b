import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { familyContext, type CollectorContext } from '../../internal/collector/collector';
import { family } from '../../internal/collector/process/declaration';
import { ProcessCollector, factory } from '../../internal/collector/process/procfs';
import { parsePrivilege, Unreadable } from '../../internal/collector/process/unreadable';
import type { ProcessCollectorConfig } from '../../internal/config/types';
import { createLogger } from '../../internal/log/logger';
import { ManualClock, collectOnce, startCollecting, type Collection, type ConfigOverrides } from '../support/collect';
import { tempHostRoot, type TempHostRoot } from '../support/host-root';

interface FakeProcess {
  pid: number;
  comm: string;
  ppid?: number;
  /** CPU seconds in user and kernel mode. */
  user?: number;
  system?: number;
  /** Seconds waited for block I/O (delay accounting). */
  blkioWait?: number;
  threads?: number;
  /** voluntary and nonvoluntary context switches of status. */
  switches?: [number, number];
  /** Minor and major page faults (fields 10 and 12 of stat). */
  faults?: [number, number];
  startTicks?: number;
  vsize?: number;
  rssPages?: number;
  rssKb?: number;
  uid?: number;
  args?: string[];
  exe?: string;
  fds?: number;
  io?: { read: number; write: number } | 'unreadable';
  kernelThread?: boolean;
}

/**
 * Writes /proc/<pid>/{stat,statm,status,io,cmdline,exe,fd/} in the kernel's formats. stat's
 * resident set is lower than statm's and VmRSS, as Linux 6.2+ gives it (per-CPU parts unsummed).
 */
function writeProcess(host: TempHostRoot, p: FakeProcess): void {
  const dir = join(host.root, 'proc', String(p.pid));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'fd'), { recursive: true });
  const flags = p.kernelThread ? 0x00208040 : 0x00400100;
  const ticks = (s = 0): number => Math.round(s * 100);
  writeFileSync(join(dir, 'stat'),
    `${p.pid} (${p.comm}) S ${p.ppid ?? 1} ${p.pid} ${p.pid} 0 -1 ${flags} ${p.faults?.[0] ?? 1520} 0 ${p.faults?.[1] ?? 3} 0 ${ticks(p.user)} ${ticks(p.system)} 0 0 20 0 ${p.threads ?? 1} 0 ` +
    `${p.startTicks ?? 1000} ${p.vsize ?? 0} ${Math.floor((p.rssPages ?? 0) * 0.92)} 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 ${ticks(p.blkioWait)} 0 0\n`);
  writeFileSync(join(dir, 'statm'), `${Math.floor((p.vsize ?? 0) / 4096)} ${p.rssPages ?? 0} 0 0 0 0 0\n`);
  const uid = p.uid ?? 0;
  writeFileSync(join(dir, 'status'),
    `Name:\t${p.comm}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t${p.pid}\nNgid:\t0\nPid:\t${p.pid}\nPPid:\t${p.ppid ?? 1}\nTracerPid:\t0\n` +
    `Uid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid}\t${uid}\t${uid}\t${uid}\nFDSize:\t64\n` +
    (p.kernelThread ? '' : `VmPeak:\t${(p.vsize ?? 0) / 1024} kB\nVmSize:\t${(p.vsize ?? 0) / 1024} kB\nVmRSS:\t${p.rssKb ?? 0} kB\n`) +
    `Threads:\t${p.threads ?? 1}\n` +
    (p.switches === undefined ? '' : `voluntary_ctxt_switches:\t${p.switches[0]}\nnonvoluntary_ctxt_switches:\t${p.switches[1]}\n`));
  if (p.io === 'unreadable') mkdirSync(join(dir, 'io')); // reading a directory fails as EACCES would, even for root
  else writeFileSync(join(dir, 'io'), `rchar: 1\nwchar: 1\nsyscr: 1\nsyscw: 1\nread_bytes: ${p.io?.read ?? 0}\nwrite_bytes: ${p.io?.write ?? 0}\ncancelled_write_bytes: 0\n`);
  writeFileSync(join(dir, 'cmdline'), p.args === undefined ? '' : `${p.args.join('\0')}\0`);
  if (p.exe !== undefined) symlinkSync(p.exe, join(dir, 'exe'));
  for (let fd = 0; fd < (p.fds ?? 0); fd++) symlinkSync('/dev/null', join(dir, 'fd', String(fd)));
}

const NGINX_MASTER: FakeProcess = {
  pid: 100, comm: 'nginx', user: 12.5, system: 3.25, blkioWait: 1.5, switches: [4321, 87], faults: [25_000, 12], threads: 1, vsize: 58_000_000, rssPages: 1500, rssKb: 6000, uid: 0,
  args: ['nginx: master process /usr/sbin/nginx -g daemon off;'], exe: '/usr/sbin/nginx', fds: 12, io: { read: 4096, write: 81920 },
};
const NGINX_WORKER: FakeProcess = { pid: 101, ppid: 100, comm: 'nginx', user: 300, system: 40, threads: 1, rssPages: 3000, rssKb: 12000, uid: 33, args: ['nginx: worker process'], exe: '/usr/sbin/nginx', fds: 40, io: 'unreadable' };
const POSTGRES: FakeProcess = { pid: 200, comm: 'postgres', user: 50, system: 20, threads: 1, rssPages: 40000, rssKb: 160000, uid: 999, args: ['/usr/lib/postgresql/15/bin/postgres', '-D', '/var/lib/postgresql/15/main'], exe: '/usr/lib/postgresql/15/bin/postgres', fds: 8 };
const EXPORTER: FakeProcess = { pid: 300, comm: 'metrics-exporte', user: 1, system: 1, threads: 7, rssPages: 500, rssKb: 2000, uid: 0, args: ['/opt/app/bin/metrics-exporter-daemon', '--port=9100'], exe: '/opt/app/bin/metrics-exporter-daemon', fds: 5 };
const SSHD: FakeProcess = { pid: 400, comm: 'sshd', user: 0.5, system: 0.25, rssPages: 800, rssKb: 3200, uid: 0, args: ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'], exe: '/usr/sbin/sshd', fds: 4 };
const KWORKER: FakeProcess = { pid: 2, comm: 'kthreadd', user: 900, system: 900, kernelThread: true, ppid: 0 };
const ALL = [NGINX_MASTER, NGINX_WORKER, POSTGRES, EXPORTER, SSHD, KWORKER];

function fakeHost(processes: FakeProcess[] = ALL): TempHostRoot {
  const host = tempHostRoot(undefined, { '/etc/passwd': 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n' });
  for (const p of processes) writeProcess(host, p);
  return host;
}

const processConfig = (process: Partial<ProcessCollectorConfig>): ConfigOverrides => ({ collectors: { process: { enabled: true, ...process } } });
const pids = (c: Collection): number[] => [...new Set(c.get('process.memory.usage').points.map((p) => Number(p.attributes['process.pid'])))].sort((a, b) => a - b);

describe('process collector', () => {
  it('reports processes matched by name or /regex/ against name, path and command line (semconv)', async (t) => {
    const host = fakeHost();
    t.after(() => host.remove());
    const c = await collectOnce(factory, { hostRoot: host.root, config: processConfig({ processes: ['nginx', '/^\\/usr\\/lib\\/postgresql/', '/exporter-daemon$/'] }) });
    assert.deepEqual(c.names, [
      'process.context_switches', 'process.cpu.time', 'process.disk.io', 'process.memory.usage', 'process.memory.virtual', 'process.paging.faults',
      'process.thread.count', 'process.unix.file_descriptor.count', 'process.uptime',
    ]);
    assert.deepEqual(pids(c), [100, 101, 200, 300], 'sshd and the kernel thread are not selected');
    const master = { 'process.pid': 100 };
    // The conventions' opt-in attributes (parent pid, executable path, command line) are off.
    const virtual = c.point('process.memory.virtual', master);
    // No /proc/stat in this tree, so no boot time: the process started when first seen.
    const [seconds, nanos] = virtual.startTime;
    assert.deepEqual(virtual.attributes, {
      'process.pid': 100, 'process.creation.time': new Date(seconds * 1000 + nanos / 1e6).toISOString(), 'process.executable.name': 'nginx',
      'process.command': 'nginx: master process /usr/sbin/nginx -g daemon off;', 'process.owner': 'root',
    });
    assert.equal(c.value('process.cpu.time', { ...master, 'cpu.mode': 'user' }), 12.5);
    assert.equal(c.value('process.cpu.time', { ...master, 'cpu.mode': 'system' }), 3.25);
    assert.equal(c.value('process.cpu.time', { ...master, 'cpu.mode': 'wait' }), 1.5, 'field 42 of stat, delayacct_blkio_ticks');
    assert.equal(c.value('process.memory.usage', master), 6000 * 1024, 'statm\'s exact resident set, as VmRSS says it');
    assert.equal(c.value('process.memory.virtual', master), 58_000_000);
    assert.equal(c.value('process.disk.io', { ...master, 'disk.io.direction': 'read' }), 4096);
    assert.equal(c.value('process.disk.io', { ...master, 'disk.io.direction': 'write' }), 81920);
    assert.equal(c.value('process.unix.file_descriptor.count', master), 12);
    assert.equal(c.value('process.context_switches', { ...master, 'process.context_switch.type': 'voluntary' }), 4321);
    assert.equal(c.value('process.context_switches', { ...master, 'process.context_switch.type': 'involuntary' }), 87);
    assert.equal(c.value('process.paging.faults', { ...master, 'system.paging.fault.type': 'minor' }), 25_000);
    assert.equal(c.value('process.paging.faults', { ...master, 'system.paging.fault.type': 'major' }), 12);
    assert.deepEqual(c.points('process.context_switches', { 'process.pid': 101 }), [], 'a status without the counters (before 2.6.23): none');
    assert.deepEqual([c.get('process.context_switches').kind, c.get('process.context_switches').unit], ['counter', '{context_switch}']);
    assert.deepEqual([c.get('process.paging.faults').kind, c.get('process.paging.faults').unit], ['counter', '{fault}']);
    assert.deepEqual([c.get('process.uptime').kind, c.get('process.uptime').unit], ['gauge', 's']);
    assert.equal(c.value('process.thread.count', { 'process.pid': 300 }), 7);
    // The kernel cuts comm at 15 bytes; the executable's file name is the full name.
    assert.equal(c.point('process.thread.count', { 'process.pid': 300 }).attributes['process.executable.name'], 'metrics-exporter-daemon');
    assert.equal(c.point('process.thread.count', { 'process.pid': 101 }).attributes['process.owner'], 'www-data');
    assert.equal(c.point('process.thread.count', { 'process.pid': 200 }).attributes['process.owner'], '999', 'a uid without a user name');
    assert.deepEqual(c.points('process.disk.io', { 'process.pid': 101 }), [], 'io not readable: that metric is skipped for the process');
    assert.equal(c.value('process.unix.file_descriptor.count', { 'process.pid': 101 }), 40, 'its other metrics are reported');
    assert.deepEqual([c.get('process.cpu.time').kind, c.get('process.cpu.time').unit], ['counter', 's']);
    assert.deepEqual([c.get('process.memory.usage').kind, c.get('process.memory.usage').unit], ['updowncounter', 'By']);
  });

  it('uses the Collector\'s names and the state key under hostmetrics', async (t) => {
    const host = fakeHost();
    t.after(() => host.remove());
    const c = await collectOnce(factory, { hostRoot: host.root, naming: 'hostmetrics', config: processConfig({ processes: ['sshd'] }) });
    // The Collector's default set: threads and descriptors are opt-in there.
    assert.deepEqual(c.names, ['process.cpu.time', 'process.disk.io', 'process.memory.usage', 'process.memory.virtual']);
    assert.equal(c.value('process.cpu.time', { 'process.pid': 400, state: 'user' }), 0.5);
    assert.equal(c.value('process.disk.io', { 'process.pid': 400, direction: 'read' }), 0);
    const withFds = await collectOnce(factory, { hostRoot: host.root, naming: 'hostmetrics', config: processConfig({ processes: ['sshd'], metrics: { 'process.open_file_descriptors': true } }) });
    assert.equal(withFds.value('process.open_file_descriptors', { 'process.pid': 400 }), 4);
    const optIn = { 'process.context_switches': true, 'process.paging.faults': true, 'process.uptime': true };
    const more = await collectOnce(factory, { hostRoot: host.root, naming: 'hostmetrics', config: processConfig({ processes: ['nginx'], metrics: optIn }) });
    assert.equal(more.value('process.context_switches', { 'process.pid': 100, type: 'involuntary' }), 87);
    assert.equal(more.value('process.paging.faults', { 'process.pid': 100, type: 'major' }), 12);
    assert.deepEqual([more.get('process.context_switches').unit, more.get('process.paging.faults').unit], ['{count}', '{faults}']);
  });

  it('says which file of which processes was refused, the error and the kernel\'s reason for this agent\'s privilege', () => {
    const unreadable = new Unreadable();
    for (const pid of [977, 1, 412, 3050]) unreadable.add('io', 'EACCES', pid);
    unreadable.add('fd', 'EACCES', 1);
    unreadable.add('status', 'EIO', 88);
    const root = unreadable.describe({ uid: 0, ptrace: false });
    assert.equal(root.split('; ')[0], 'cannot read /proc/<pid>/fd/ of pid 1 (EACCES): reading it takes ptrace read access (PTRACE_MODE_READ_FSCREDS)');
    assert.match(root, /cannot read \/proc\/<pid>\/io of pids 1, 412, 977, … \(EACCES\): reading it takes ptrace read access \(PTRACE_MODE_READ_FSCREDS\); without CAP_SYS_PTRACE this agent \(root\) reads only its own user's processes, and not non-dumpable ones \(setuid programs, whatever called prctl\(PR_SET_DUMPABLE, 0\)\) even as root; grant CAP_SYS_PTRACE to read them/);
    assert.match(root, /cannot read \/proc\/<pid>\/status of pid 88 \(EIO\)$/, 'no reason guessed for another error');
    assert.match(unreadable.describe({ uid: 1000, ptrace: false }), /this agent \(uid 1000\) reads only its own user's processes/);
    assert.match(unreadable.describe({ uid: 0, ptrace: true }), /which CAP_SYS_PTRACE grants this agent, so a security module \(AppArmor, SELinux, a Landlock sandbox\) or a user namespace above the agent's refused it/);
    // This machine's status: Uid and CapEff (bit 19 is CAP_SYS_PTRACE).
    assert.deepEqual(parsePrivilege('Name:\tnode\nUid:\t0\t0\t0\t0\nCapEff:\t000001fffeffffff\n'), { uid: 0, ptrace: true });
    assert.deepEqual(parsePrivilege('Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n'), { uid: 1000, ptrace: false });
    assert.equal(parsePrivilege('Name:\tx\n'), undefined);
  });

  it('takes a name cut at 15 bytes whole from argv[0] under hostmetrics (as the Collector), from the executable under semconv', async (t) => {
    // Started through a symlink to a versioned release.
    const linked: FakeProcess = { ...EXPORTER, args: ['/usr/local/bin/metrics-exporter-daemon'], exe: '/opt/app/releases/2.1/metrics-exporter-daemon-2.1' };
    const host = fakeHost([linked]);
    t.after(() => host.remove());
    const name = async (naming: 'semconv' | 'hostmetrics'): Promise<unknown> => {
      const c = await collectOnce(factory, { hostRoot: host.root, naming, config: processConfig({}) });
      return c.point('process.memory.usage', { 'process.pid': 300 }).attributes['process.executable.name'];
    };
    assert.equal(await name('hostmetrics'), 'metrics-exporter-daemon');
    assert.equal(await name('semconv'), 'metrics-exporter-daemon-2.1');
  });

  it('adds each opt-in attribute with its own switch; hostmetrics sends them unless switched off', async (t) => {
    const host = fakeHost();
    t.after(() => host.remove());
    const keys = async (naming: 'semconv' | 'hostmetrics', process: Partial<ProcessCollectorConfig>): Promise<string[]> => {
      const c = await collectOnce(factory, { hostRoot: host.root, naming, config: processConfig({ processes: ['nginx'], ...process }) });
      return Object.keys(c.point('process.memory.usage', { 'process.pid': 101 }).attributes).sort();
    };
    const always = ['process.command', 'process.executable.name', 'process.owner', 'process.pid'];
    assert.deepEqual(await keys('semconv', {}), [...always, 'process.creation.time'].sort());
    assert.deepEqual(await keys('semconv', { include_parent_pid: true }), [...always, 'process.creation.time', 'process.parent_pid'].sort());
    assert.deepEqual(await keys('semconv', { include_executable_path: true }), [...always, 'process.creation.time', 'process.executable.path'].sort());
    assert.deepEqual(await keys('semconv', { include_command_line: true }), [...always, 'process.creation.time', 'process.command_line'].sort());
    const all = [...always, 'process.command_line', 'process.executable.path', 'process.parent_pid'].sort();
    assert.deepEqual(await keys('hostmetrics', {}), all);
    assert.deepEqual(await keys('hostmetrics', { include_command_line: false }), all.filter((k) => k !== 'process.command_line'));
    const c = await collectOnce(factory, { hostRoot: host.root, config: processConfig({ processes: ['nginx'], include_parent_pid: true, include_command_line: true }) });
    const worker = c.point('process.memory.usage', { 'process.pid': 101 }).attributes;
    assert.deepEqual([worker['process.parent_pid'], worker['process.command_line']], [100, 'nginx: worker process']);
  });

  it('reports every user-space process when neither names nor top_n are set', async (t) => {
    const host = fakeHost();
    t.after(() => host.remove());
    const c = await collectOnce(factory, { hostRoot: host.root, config: processConfig({}) });
    assert.deepEqual(pids(c), [100, 101, 200, 300, 400]);
  });

  it('adds the top N by memory, and by CPU used since the previous cycle', async (t) => {
    const host = fakeHost();
    t.after(() => host.remove());
    const byMemory = await collectOnce(factory, { hostRoot: host.root, config: processConfig({ processes: ['sshd'], top_n: 2, top_by: 'memory' }) });
    assert.deepEqual(pids(byMemory), [101, 200, 400]);

    const clock = new ManualClock();
    const session = startCollecting(factory, { hostRoot: host.root, clock, config: processConfig({ top_n: 2, top_by: 'cpu' }) });
    t.after(() => session.shutdown());
    const collector = session.collector as ProcessCollector;
    await session.collect();
    assert.deepEqual(collector.reported.sort(), [101, 200], 'first cycle: most CPU since start');
    // sshd and the exporter get busy; the nginx worker and postgres go idle.
    writeProcess(host, { ...SSHD, user: 60 });
    writeProcess(host, { ...EXPORTER, user: 31 });
    clock.advance(30_000);
    const busy = await session.collect();
    assert.deepEqual(collector.reported.sort(), [300, 400]);
    assert.equal(busy.value('process.cpu.time', { 'process.pid': 400, 'cpu.mode': 'user' }), 60);
  });

  it('reads processes every collectors.process.interval, not every system cycle', async (t) => {
    const host = fakeHost();
    t.after(() => host.remove());
    const clock = new ManualClock();
    const session = startCollecting(factory, { hostRoot: host.root, clock, config: processConfig({ processes: ['sshd'], interval: 60_000 }) });
    t.after(() => session.shutdown());
    const collector = session.collector as ProcessCollector;
    await session.collect();
    writeProcess(host, { ...SSHD, user: 7 });
    clock.advance(15_000);
    const skipped = await session.collect();
    assert.equal(skipped.value('process.cpu.time', { 'process.pid': 400, 'cpu.mode': 'user' }), 0.5, 'not re-read 15 s later');
    clock.advance(45_000);
    const read = await session.collect();
    assert.equal(read.value('process.cpu.time', { 'process.pid': 400, 'cpu.mode': 'user' }), 7);
    assert.deepEqual(collector.reported, [400]);
  });

  it('treats a pid whose start time changed as a new process', async (t) => {
    const host = fakeHost();
    t.after(() => host.remove());
    const clock = new ManualClock();
    const session = startCollecting(factory, { hostRoot: host.root, clock, config: processConfig({ processes: ['/^sshd/', 'python3'], include_command_line: true, include_executable_path: true }) });
    t.after(() => session.shutdown());
    await session.collect();
    // sshd exits and pid 400 is reused by another program: new identity, attributes, series.
    writeProcess(host, { pid: 400, comm: 'python3', startTicks: 999_000, user: 2, uid: 33, args: ['python3', 'job.py'], exe: '/usr/bin/python3.11', rssKb: 100 });
    clock.advance(30_000);
    const c = await session.collect();
    // Selected by comm ("python3"); named, as the conventions say, by the executable's file name.
    const current = c.points('process.cpu.time', { 'process.pid': 400, 'cpu.mode': 'user', 'process.executable.name': 'python3.11' });
    assert.equal(current.length, 1);
    assert.equal(current[0].value, 2);
    // No /proc/stat in this tree, so no boot time: a series starts when the process was first seen.
    assert.deepEqual(current[0].startTime, [Math.floor(clock.now() / 1000), (clock.now() % 1000) * 1e6]);
    assert.deepEqual(
      [current[0].attributes['process.executable.path'], current[0].attributes['process.command_line'], current[0].attributes['process.owner']],
      ['/usr/bin/python3.11', 'python3 job.py', 'www-data'],
    );
  });

  it('finds a process that exec\'d a matching program by the next re-check, without re-reading others every cycle', async (t) => {
    const host = fakeHost([NGINX_MASTER, SSHD]);
    t.after(() => host.remove());
    const clock = new ManualClock();
    const session = startCollecting(factory, { hostRoot: host.root, clock, config: processConfig({ processes: ['postgres'], interval: 15_000 }) });
    t.after(() => session.shutdown());
    const collector = session.collector as ProcessCollector;
    // A shell forked by the init script: not a match when first seen.
    writeProcess(host, { pid: 700, comm: 'sh', args: ['/bin/sh', '/etc/init.d/postgresql', 'start'], exe: '/bin/dash', rssKb: 100 });
    await session.collect();
    assert.equal(collector.reported.length, 0);
    // It execs postgres: same pid, same start time, another program.
    writeProcess(host, { ...POSTGRES, pid: 700 });
    const found: number[] = [];
    for (let cycle = 2; cycle <= 10; cycle++) {
      clock.advance(15_000);
      await session.collect();
      if (collector.reported.includes(700)) found.push(cycle);
    }
    assert.deepEqual(found, [10], 'not re-read on cycles 2-9; found on the 10th');
  });

  it('skips a process that exits mid-read quietly, counts it, and logs unreadable files once per streak', async (t) => {
    const host = fakeHost();
    t.after(() => host.remove());
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', format: 'json', destination: new Writable({ write(chunk: Buffer, _e, done) { lines.push(JSON.parse(chunk.toString())); done(); } }) });
    const clock = new ManualClock();
    const session = startCollecting((ctx: CollectorContext) => new ProcessCollector(familyContext(family, { ...ctx, logger })), { hostRoot: host.root, clock, config: processConfig({}) });
    t.after(() => session.shutdown());
    const collector = session.collector as ProcessCollector;
    // Listed in /proc, gone before its files are read.
    mkdirSync(join(host.root, 'proc/500'));
    // Its stat was read, then it exited before status.
    writeProcess(host, { pid: 600, comm: 'short-lived', args: ['short-lived'] });
    rmSync(join(host.root, 'proc/600/status'));
    for (let cycle = 0; cycle < 3; cycle++) {
      await session.collect();
      clock.advance(30_000);
    }
    assert.deepEqual(collector.reported, [100, 101, 200, 300, 400]);
    assert.deepEqual(collector.skipped, { exited: 6, unreadable: 0, ioUnreadable: 3, fdsUnreadable: 0 });
    const failing = lines.filter((l) => l.event === 'collector.process.read.failing');
    assert.equal(failing.length, 1, 'one line for the streak, not one per cycle');
    // The file, the process and the error (the fake io is a directory).
    assert.equal(failing[0].reason, 'cannot read /proc/<pid>/io of pid 101 (EISDIR)');
    assert.ok(!lines.some((l) => JSON.stringify(l).includes('short-lived')), 'exits are not logged');
  });

  it('reads this machine\'s processes: a child it started, by command line, through files it keeps open', async (t) => {
    // A command line no other process on the machine has.
    const seconds = `30.${process.pid}`;
    const child = spawn('sleep', [seconds], { stdio: 'ignore' });
    t.after(() => child.kill());
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid ?? -1;
    const ownFds = (): number => readdirSync('/proc/self/fd').length;
    const before = ownFds();
    const clock = new ManualClock(Date.now(), performance.now());
    const session = startCollecting(factory, { clock, config: processConfig({ processes: [`/^sleep ${seconds.replace('.', '\\.')}$/`], interval: 1_000, include_parent_pid: true, include_command_line: true }) });
    // Counters read around the collection: a process just started may still be switching and faulting.
    const counters = (): [number, number] => [
      Number(/^voluntary_ctxt_switches:\t(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]),
      Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[7]),
    ];
    const [switchesBefore, faultsBefore] = counters();
    const first = await session.collect();
    const [switchesAfter, faultsAfter] = counters();
    const point = first.point('process.memory.usage', { 'process.pid': pid });
    assert.equal(point.attributes['process.parent_pid'], process.pid);
    assert.equal(point.attributes['process.command_line'], `sleep ${seconds}`);
    const vmRss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    assert.equal(point.value, vmRss * 1024, 'the resident set of statm, as VmRSS gives it');
    assert.equal(first.value('process.unix.file_descriptor.count', { 'process.pid': pid }), readdirSync(`/proc/${pid}/fd`).length);
    // The series start when the process did: boot time plus its start in clock ticks.
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    const startTicks = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]);
    assert.deepEqual(point.startTime, [btime + Math.floor(startTicks / 100), (startTicks % 100) * 10_000_000]);
    assert.equal(point.attributes['process.creation.time'], new Date((btime + startTicks / 100) * 1000).toISOString(), 'ISO 8601, as the conventions ask');
    // The executable's head, tail and length (the profiling specification's htlhash), by sha256sum.
    const exe = readFileSync(`/proc/${pid}/exe`);
    const length = Buffer.alloc(8);
    length.writeUInt32BE(exe.length, 4);
    const input = Buffer.concat([exe.subarray(0, 4096), exe.subarray(Math.max(0, exe.length - 4096)), length]);
    const digest = execFileSync('sha256sum', { input, encoding: 'utf8' }).slice(0, 32);
    assert.equal(point.attributes['process.executable.build_id.htlhash'], digest);
    // statm's resident set is status's VmRSS: with status read every cycle (its context switches), statm is not opened.
    assert.equal(ownFds(), before + 3, 'stat, io and status of the one process stay open');
    const startedMs = (btime + startTicks / 100) * 1000;
    assert.equal(first.value('process.uptime', { 'process.pid': pid }), (clock.now() - startedMs) / 1000);
    const switches = first.value('process.context_switches', { 'process.pid': pid, 'process.context_switch.type': 'voluntary' });
    assert.ok(switches >= switchesBefore && switches <= switchesAfter && switchesAfter > 0, `${switches} voluntary switches, ${switchesBefore}…${switchesAfter} around the read`);
    const faults = first.value('process.paging.faults', { 'process.pid': pid, 'system.paging.fault.type': 'minor' });
    assert.ok(faults >= faultsBefore && faults <= faultsAfter && faultsAfter > 0, `${faults} minor faults, ${faultsBefore}…${faultsAfter} around the read`);

    clock.advance(1_000);
    const second = await session.collect();
    assert.deepEqual(second.point('process.memory.usage', { 'process.pid': pid }).startTime, point.startTime);
    assert.equal(ownFds(), before + 3, 'read again through the same three files');
    assert.equal(second.value('process.uptime', { 'process.pid': pid }), (clock.now() - startedMs) / 1000);

    child.kill();
    await new Promise((resolve) => child.once('exit', resolve));
    clock.advance(1_000);
    const gone = await session.collect();
    assert.equal(gone.has('process.memory.usage'), false, 'an exited process is not exported');
    assert.equal(ownFds(), before, 'its files are closed');
    await session.shutdown();
  });

  it('closes the files it keeps open when the collector is removed', async (t) => {
    const seconds = `31.${process.pid}`;
    const child = spawn('sleep', [seconds], { stdio: 'ignore' });
    t.after(() => child.kill());
    await new Promise((resolve) => child.once('spawn', resolve));
    const before = readdirSync('/proc/self/fd').length;
    const session = startCollecting(factory, { config: processConfig({ processes: [`/^sleep ${seconds.replace('.', '\\.')}$/`] }) });
    const c = await session.collect();
    assert.equal(c.points('process.memory.usage').length, 1);
    assert.equal(readdirSync('/proc/self/fd').length, before + 3);
    await session.shutdown();
    assert.equal(readdirSync('/proc/self/fd').length, before);
  });
});
