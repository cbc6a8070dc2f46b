import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ParseError } from '../../internal/procfs/errors';
import { HostFs } from '../../internal/procfs/host';
import { parseCpuinfo, readCpuinfo } from '../../internal/procfs/cpuinfo';
import { parseEntropy } from '../../internal/procfs/entropy';
import { parseFileNr } from '../../internal/procfs/file-nr';
import { parseLoadavg } from '../../internal/procfs/loadavg';
import { memAvailable, parseMeminfo } from '../../internal/procfs/meminfo';
import { parsePressure, readPressure } from '../../internal/procfs/pressure';
import { pidStateCode } from '../../internal/procfs/process-states';
import { cpuTotal, parseStat, readStat } from '../../internal/procfs/stat';
import { parseSwaps } from '../../internal/procfs/swaps';
import { parseSysctlCount, readTaskLimit } from '../../internal/procfs/task-limit';
import { parseUptime } from '../../internal/procfs/uptime';
import { parseVmstat } from '../../internal/procfs/vmstat';
import { tempHostRoot } from '../support/host-root';
import { FIXTURES } from '../support/paths';

const MACHINES = ['vm-6.18-2cpu', 'xeon-64cpu-5.15', 'rhel6-2.6.32', 'container-lxcfs-5.4', 'arm64-graviton2-6.1'];

function fixture(machine: string, hostPath: string): string {
  return readFileSync(join(FIXTURES, 'procfs', machine, hostPath), 'utf8');
}

/** Every parser must reject these with a ParseError naming the file, never crash or return junk. */
function assertRejectsBroken(parse: (text: string) => unknown, valid: string, source: string): void {
  const broken = {
    empty: '',
    whitespace: ' \n\n',
    garbage: '\u0000\u0001binary\u00ff garbage {json: true}\n',
    truncated: valid.slice(0, Math.max(1, Math.floor(valid.length / 3) - 1)),
  };
  for (const [kind, text] of Object.entries(broken)) {
    assert.throws(() => parse(text), (err: unknown) => err instanceof ParseError && err.message.startsWith(source), `${source} ${kind}`);
  }
}

describe('/proc/stat', () => {
  it('parses the captured 2-CPU VM, ticks to seconds, guest not added twice', () => {
    const text = fixture('vm-6.18-2cpu', '/proc/stat');
    const stat = parseStat(text);
    const cpuLine = text.split('\n')[0]!.split(/\s+/).slice(1).map(Number);
    assert.equal(stat.total.user, cpuLine[0]! / 100);
    assert.equal(stat.total.idle, cpuLine[3]! / 100);
    assert.equal(stat.total.steal, cpuLine[7]! / 100);
    assert.equal(stat.total.guest, cpuLine[8]! / 100);
    // total = every mode once: the first eight columns, not guest/guest_nice again.
    const expected = cpuLine.slice(0, 8).reduce((a, b) => a + b, 0) / 100;
    assert.ok(Math.abs(cpuTotal(stat.total) - expected) < 1e-6);
    assert.deepEqual(stat.perCpu.map((c) => c.cpu), [0, 1]);
    assert.ok(stat.contextSwitches > 0 && stat.interrupts > 0 && stat.bootTime > 1.6e9);
    assert.equal(typeof stat.softInterrupts, 'number');
  });

  it('reads 64 CPUs and the intr total, not its thousand columns', () => {
    const stat = parseStat(fixture('xeon-64cpu-5.15', '/proc/stat'));
    assert.equal(stat.perCpu.length, 64);
    assert.equal(stat.perCpu[63]!.cpu, 63);
    const sumUser = stat.perCpu.reduce((a, c) => a + c.user, 0);
    assert.ok(Math.abs(sumUser - stat.total.user) < 1e-3);
    assert.equal(stat.contextSwitches, 318220581244);
    assert.equal(stat.procsRunning, 9);
    assert.equal(stat.procsBlocked, 1);
  });

  it('fills missing columns of old kernels with zero (2.6.32 has no guest_nice)', () => {
    const stat = parseStat(fixture('rhel6-2.6.32', '/proc/stat'));
    assert.equal(stat.total.guestNice, 0);
    assert.equal(stat.total.user, (2210034 + 2009811) / 100);
    const minimal = parseStat('cpu 10 20 30 40\nintr 5\nctxt 6\nbtime 7\nprocesses 8\n');
    assert.deepEqual([minimal.total.iowait, minimal.total.steal], [0, 0]);
    assert.equal(minimal.procsRunning, undefined);
    assert.equal(minimal.softInterrupts, undefined);
  });

  it('keeps the logical number of each online CPU when some are offline', () => {
    const stat = parseStat('cpu 4 0 0 4 0 0 0 0 0 0\ncpu0 2 0 0 2 0 0 0 0 0 0\ncpu3 2 0 0 2 0 0 0 0 0 0\nintr 1\nctxt 1\nbtime 1\nprocesses 1\n');
    assert.deepEqual(stat.perCpu.map((c) => c.cpu), [0, 3]);
  });

  it('concurrent readers share one read; a later read sees the file as it is then', async () => {
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    try {
      const fs = new HostFs(host.root);
      const [a, b] = await Promise.all([readStat(fs), readStat(fs)]);
      assert.equal(a, b);
      host.write('/proc/stat', fixture('vm-6.18-2cpu', '/proc/stat').replace(/^ctxt \d+$/m, 'ctxt 42'));
      const later = await readStat(fs);
      assert.notEqual(later, a);
      assert.equal(later.contextSwitches, 42);
      host.write('/proc/stat', 'garbage');
      await assert.rejects(readStat(fs), ParseError);
      await assert.rejects(readStat(fs), ParseError, 'a failed read is not kept either');
    } finally {
      host.remove();
    }
  });

  it('rejects broken files', () => {
    const valid = fixture('vm-6.18-2cpu', '/proc/stat');
    assertRejectsBroken(parseStat, valid, '/proc/stat');
    assert.throws(() => parseStat(valid.replace(/^cpu0 \d+/m, 'cpu0 x')), /cpu0 user is "x"/);
    assert.throws(() => parseStat('cpu 1 2\nintr 1\nctxt 1\nbtime 1\nprocesses 1\n'), /at least 4/);
  });
});

describe('/proc/cpuinfo', () => {
  it('x86 VM: model, vendor, family, MHz, cache, topology', () => {
    const info = parseCpuinfo(fixture('vm-6.18-2cpu', '/proc/cpuinfo'));
    assert.equal(info.logicalCount, 2);
    assert.equal(info.vendor, 'AuthenticAMD');
    assert.equal(info.model, 'AMD EPYC');
    assert.equal(info.family, '25');
    assert.equal(info.cacheSizeBytes, 512 * 1024);
    assert.equal(info.physicalCores, 2);
    assert.equal(info.sockets, 1);
    assert.equal(info.mhz.size, 2);
  });

  it('64-CPU dual socket: 32 physical cores on 2 sockets', () => {
    const info = parseCpuinfo(fixture('xeon-64cpu-5.15', '/proc/cpuinfo'));
    assert.equal(info.logicalCount, 64);
    assert.equal(info.physicalCores, 32);
    assert.equal(info.sockets, 2);
    assert.equal(info.model, 'Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz');
    assert.equal(info.cacheSizeBytes, 22528 * 1024);
    assert.equal(info.mhz.get(63) !== undefined, true);
  });

  it('arm64: vendor and model from implementer/part codes, topology from sysfs', async () => {
    const info = parseCpuinfo(fixture('arm64-graviton2-6.1', '/proc/cpuinfo'));
    assert.equal(info.vendor, 'ARM');
    assert.equal(info.model, 'Neoverse-N1');
    assert.equal(info.family, '8');
    assert.equal(info.physicalCores, undefined);
    assert.equal(info.mhz.size, 0);
    const filled = await readCpuinfo(new HostFs(join(FIXTURES, 'procfs', 'arm64-graviton2-6.1')));
    assert.equal(filled.physicalCores, 4);
    assert.equal(filled.sockets, 1);
  });

  it('rejects broken files', () => {
    assert.throws(() => parseCpuinfo(''), ParseError);
    assert.throws(() => parseCpuinfo('garbage\u0000\n{}'), ParseError);
    assert.throws(() => parseCpuinfo('processor\t: x\n'), ParseError);
    // A block cut mid-way still counts its CPU; topology incomplete means unknown, not a guess.
    const blocks = fixture('xeon-64cpu-5.15', '/proc/cpuinfo').split('\n\n');
    const cut = parseCpuinfo([blocks[0], blocks[1], blocks[2]!.split('\n').slice(0, 9).join('\n')].join('\n\n'));
    assert.equal(cut.logicalCount, 3);
    assert.equal(cut.physicalCores, undefined);
  });
});

describe('small files', () => {
  it('loadavg on every machine that has it', () => {
    for (const machine of MACHINES.filter((m) => m !== 'arm64-graviton2-6.1')) {
      const load = parseLoadavg(fixture(machine, '/proc/loadavg'));
      assert.ok(load.load1 >= 0 && load.total >= load.running, machine);
    }
    assert.deepEqual(parseLoadavg('37.12 35.80 33.07 41/2874 3981734\n'), { load1: 37.12, load5: 35.8, load15: 33.07, running: 41, total: 2874 });
    assertRejectsBroken(parseLoadavg, '0.26 0.29 0.26 4/93 10800\n', '/proc/loadavg');
  });

  it('uptime', () => {
    assert.deepEqual(parseUptime('1359.88 2270.30\n'), { uptime: 1359.88, idle: 2270.3 });
    assertRejectsBroken(parseUptime, '1359.88 2270.30\n', '/proc/uptime');
  });

  it('pid_max and threads-max: the task limit is the smaller', () => {
    assert.equal(parseSysctlCount(fixture('vm-6.18-2cpu', '/proc/sys/kernel/pid_max'), 'pid_max'), 32768);
    assert.equal(parseSysctlCount(fixture('vm-6.18-2cpu', '/proc/sys/kernel/threads-max'), 'threads-max'), 192724);
    assert.equal(readTaskLimit(new HostFs(join(FIXTURES, 'procfs/vm-6.18-2cpu'))), 32768);
    assert.equal(readTaskLimit(new HostFs(join(FIXTURES, 'procfs/container-lxcfs-5.4'))), undefined, 'no /proc/sys: no limit');
    for (const text of ['', ' \n', 'garbage\n', '-1\n', '4194304 12\n', '99999999999999999999\n']) {
      assert.throws(() => parseSysctlCount(text, '/proc/sys/kernel/pid_max'), (err: unknown) => err instanceof ParseError && err.message.startsWith('/proc/sys/kernel/pid_max'), JSON.stringify(text));
    }
  });

  it('file-nr and entropy', () => {
    assert.deepEqual(parseFileNr(fixture('rhel6-2.6.32', '/proc/sys/fs/file-nr')), { allocated: 1632, unused: 0, max: 386106 });
    // 2^63-1 (unlimited file-max on 5.x) is kept as a (rounded) number, not rejected.
    assert.ok(parseFileNr(fixture('xeon-64cpu-5.15', '/proc/sys/fs/file-nr')).max > 9e18);
    assertRejectsBroken(parseFileNr, '591\t0\t2465620\n', '/proc/sys/fs/file-nr');
    assert.equal(parseEntropy(fixture('vm-6.18-2cpu', '/proc/sys/kernel/random/entropy_avail')), 256);
    assert.throws(() => parseEntropy(''), ParseError);
    assert.throws(() => parseEntropy('lots'), ParseError);
  });

  it('vmstat', () => {
    const vm = parseVmstat(fixture('vm-6.18-2cpu', '/proc/vmstat'));
    assert.ok(vm.get('pgfault')! >= vm.get('pgmajfault')!);
    for (const key of ['pswpin', 'pswpout', 'pgpgin', 'pgpgout']) assert.equal(typeof vm.get(key), 'number', key);
    assertRejectsBroken(parseVmstat, fixture('vm-6.18-2cpu', '/proc/vmstat'), '/proc/vmstat');
  });

  it('swaps: none, one LVM partition, escaped paths', () => {
    assert.deepEqual(parseSwaps(fixture('vm-6.18-2cpu', '/proc/swaps')), []);
    assert.deepEqual(parseSwaps(fixture('container-lxcfs-5.4', '/proc/swaps')), []);
    assert.deepEqual(parseSwaps(fixture('xeon-64cpu-5.15', '/proc/swaps')), [
      { device: '/dev/dm-1', type: 'partition', sizeBytes: 8388604 * 1024, usedBytes: 1203412 * 1024, priority: -2 },
    ]);
    const spaced = parseSwaps('Filename\tType\tSize\tUsed\tPriority\n/swap\\040file file 1024 0 -3\n');
    assert.equal(spaced[0]!.device, '/swap file');
    assert.throws(() => parseSwaps(''), ParseError);
    assert.throws(() => parseSwaps('Filename Type Size Used Priority\n/dev/sda2 partition 1024'), ParseError);
    assert.throws(() => parseSwaps('garbage'), ParseError);
  });

  it('pressure: microseconds to seconds, irq has only full, missing means none', async () => {
    const io = parsePressure(fixture('xeon-64cpu-5.15', '/proc/pressure/io'));
    assert.equal(io.some!.totalSeconds, 4567.123456);
    assert.equal(io.full!.avg10, 0.9);
    const irq = parsePressure(fixture('xeon-64cpu-5.15', '/proc/pressure/irq'));
    assert.equal(irq.some, undefined);
    assert.equal(irq.full!.totalSeconds, 0.812345);
    assert.equal((await readPressure(new HostFs(join(FIXTURES, 'procfs', 'rhel6-2.6.32')))).size, 0);
    assert.deepEqual([...(await readPressure(new HostFs(join(FIXTURES, 'procfs', 'vm-6.18-2cpu')))).keys()], ['cpu', 'memory', 'io']);
    assertRejectsBroken((t) => parsePressure(t, '/proc/pressure/io'), fixture('vm-6.18-2cpu', '/proc/pressure/memory'), '/proc/pressure/io');
  });

  it('meminfo without MemAvailable falls back to free + buffers + cached', () => {
    const old = parseMeminfo(fixture('rhel6-2.6.32', '/proc/meminfo'));
    assert.equal(old.has('MemAvailable'), false);
    assert.equal(memAvailable(old), (201344 + 187220 + 2133452) * 1024);
    const captured = parseMeminfo(fixture('vm-6.18-2cpu', '/proc/meminfo'));
    assert.equal(memAvailable(captured), captured.get('MemAvailable'));
    assert.throws(() => parseMeminfo(''), ParseError);
    assert.throws(() => parseMeminfo('garbage'), ParseError);
  });

  it('process state letter after the last parenthesis', () => {
    const state = (text: string, length?: number): string | undefined => {
      const code = pidStateCode(Buffer.from(text, 'latin1'), length);
      return code === undefined ? undefined : String.fromCharCode(code);
    };
    assert.equal(state('1 (systemd) S 0 1 1 0'), 'S');
    assert.equal(state('42 (weird) name) Z 1 42'), 'Z');
    assert.equal(state('7 (a b (c)) D 1'), 'D');
    assert.equal(state('7 (cut'), undefined);
    assert.equal(state(''), undefined);
    assert.equal(state('9 (x) 5 1'), undefined);
    assert.equal(state('9 (x)) t 1'), 't');
    // Only the bytes read count, not what the reused buffer held before.
    assert.equal(state('1 (systemd) S 0 1 1 0', 12), undefined);
    assert.equal(state('1 (systemd) S 0 (old) R', 14), 'S');
  });
});
