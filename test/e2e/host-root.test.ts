// A DaemonSet pod reads the host through a mounted root. Here that root is a fake host tree in
// a temp dir whose every value differs from this machine: the agent, started as the built CLI
// with TELEMETRYFLOW_HOST_ROOT pointing at it, must report the fake host (its values, its
// host.id, its mountpoints without the prefix) and nothing of the machine it runs on.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedPoint } from '../support/otlp-receiver';
import { AgentProcess, agentConfig, tempWorkspace } from './agent-process';

const MACHINE_ID = 'f00dfacef00dfacef00dfacef00dface';
const USER_HZ = 100;

// The fake host: two CPUs, 3 GB, one disk `vdz` with two partitions mounted at / and /data,
// one interface `fake0`, no swap. Formats follow the kernel's files byte for byte.
const FAKE_HOST: Record<string, string> = {
  'etc/machine-id': `${MACHINE_ID}\n`,
  'proc/stat': [
    'cpu  123400 100 23400 9876500 1200 0 300 50 0 0',
    'cpu0 61700 50 11700 4938250 600 0 150 25 0 0',
    'cpu1 61700 50 11700 4938250 600 0 150 25 0 0',
    'intr 555555 0 0',
    'ctxt 7777777',
    'btime 1700000000',
    'processes 424242',
    'procs_running 3',
    'procs_blocked 1',
    'softirq 99999 0 0',
    '',
  ].join('\n'),
  'proc/meminfo': [
    'MemTotal:        3000000 kB',
    'MemFree:         1000000 kB',
    'MemAvailable:    2000000 kB',
    'Buffers:          100000 kB',
    'Cached:           800000 kB',
    'SwapCached:            0 kB',
    'SwapTotal:             0 kB',
    'SwapFree:              0 kB',
    'Slab:             150000 kB',
    'SReclaimable:     100000 kB',
    'SUnreclaim:        50000 kB',
    '',
  ].join('\n'),
  'proc/loadavg': '7.25 6.50 5.75 3/321 4242\n',
  'proc/uptime': '86400.50 170000.00\n',
  'proc/cpuinfo': [0, 1]
    .map((n) => `processor\t: ${n}\nvendor_id\t: FakeVendor\nmodel name\t: Fake CPU\ncpu MHz\t\t: 1234.000\nphysical id\t: 0\ncore id\t\t: ${n}\ncpu cores\t: 2\n`)
    .join('\n'),
  'proc/diskstats': [
    ' 254       0 vdz 1000 10 20000 500 2000 20 40000 800 0 900 1300 0 0 0 0',
    ' 254       1 vdz1 600 5 12000 300 1200 10 24000 500 0 500 800 0 0 0 0',
    ' 254       2 vdz2 400 5 8000 200 800 10 16000 300 0 400 500 0 0 0 0',
    '',
  ].join('\n'),
  'proc/1/mountinfo': [
    '21 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vdz1 rw',
    '22 21 254:2 / /data rw,relatime shared:2 - xfs /dev/vdz2 rw',
    '23 21 0:5 / /proc rw,nosuid - proc proc rw',
    '',
  ].join('\n'),
  'proc/net/dev': [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0',
    ' fake0:  111111     222    1    2    0     0          0         0   333333     444    3    4    0     0       0          0',
    '',
  ].join('\n'),
  'proc/net/tcp': '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n',
  'proc/net/tcp6': '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n',
  'proc/swaps': 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n',
  'proc/vmstat': 'pgpgin 500\npgpgout 600\npswpin 0\npswpout 0\npgfault 100000\npgmajfault 10\n',
  'proc/sys/fs/file-nr': '1234\t0\t99999\n',
  'proc/sys/kernel/random/entropy_avail': '256\n',
  'proc/1/stat': '1 (init) S 0 1 1 0 -1 4194560 100 0 0 0 10 20 0 0 20 0 1 0 5 1000000 200 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n',
  'proc/42/stat': '42 (fake worker) R 1 42 42 0 -1 4194560 100 0 0 0 10 20 0 0 20 0 1 0 5 1000000 200 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n',
  'sys/block/vdz/stat': '1000 10 20000 500 2000 20 40000 800 0 900 1300\n',
  'sys/block/vdz/vdz1/partition': '1\n',
  'sys/block/vdz/vdz2/partition': '2\n',
  'sys/class/block/vdz1/partition': '1\n',
  'sys/class/block/vdz2/partition': '2\n',
  'sys/devices/system/cpu/online': '0-1\n',
  'data/.keep': '',
};

function buildFakeHost(root: string): void {
  for (const [path, text] of Object.entries(FAKE_HOST)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  mkdirSync(join(root, 'sys', 'class', 'net', 'fake0'), { recursive: true });
}

const EXPECTED = [
  'system.cpu.time',
  'system.memory.limit',
  'system.cpu.load_average.1m',
  'system.uptime',
  'system.disk.io',
  'system.filesystem.usage',
  'system.network.io',
  'system.process.created',
];

let receiver: OtlpReceiver;
let workspace: ReturnType<typeof tempWorkspace>;
let agent: AgentProcess;
let points: ReceivedPoint[];

before(async () => {
  receiver = await startOtlpReceiver();
  workspace = tempWorkspace('tfo-hostroot-');
  const hostRoot = join(workspace.dir, 'hostfs');
  buildFakeHost(hostRoot);
  const config = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: workspace.dir, interval: '1s', health: { enabled: false } });
  // Every family, as a DaemonSet would run them.
  (config.collectors as { system: Record<string, unknown> }).system = { enabled: true, interval: '1s', metrics: { 'system.memory.limit': true, 'system.cpu.utilization': true, 'system.filesystem.limit': true } };
  const file = workspace.file('agent.yaml', stringify(config));
  agent = new AgentProcess(['start', '-c', file], { env: { TELEMETRYFLOW_HOST_ROOT: hostRoot } });
  await receiver.waitFor((r) => EXPECTED.every((name) => r.metricNames().includes(name)), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${agent.transcript()}`);
  });
  points = receiver.points();
});

after(async () => {
  await agent?.kill();
  await receiver?.close();
  workspace?.cleanup();
});

function values(name: string, match: Record<string, string> = {}): number[] {
  return points.filter((p) => p.name === name && Object.entries(match).every(([k, v]) => p.attributes[k] === v)).map((p) => p.value);
}

/** Every exported value of `name` matching `match` equals `expected` (and there is one). */
function assertReported(name: string, match: Record<string, string>, expected: number): void {
  const seen = values(name, match);
  assert.ok(seen.length > 0, `${name} ${JSON.stringify(match)} not reported; names: ${receiver.metricNames().join(', ')}`);
  for (const value of seen) assert.ok(Math.abs(value - expected) < 1e-6, `${name} ${JSON.stringify(match)}: ${value}, the fake host has ${expected}`);
}

test('resource: host.id is the fake host machine id', () => {
  const ids = new Set(points.map((p) => p.resource['host.id']));
  assert.deepEqual([...ids], [MACHINE_ID]);
});

test('cpu, memory, load and uptime are the fake host values', () => {
  assertReported('system.cpu.time', { 'cpu.mode': 'user' }, 123400 / USER_HZ);
  assertReported('system.cpu.time', { 'cpu.mode': 'idle' }, 9876500 / USER_HZ);
  assertReported('system.cpu.time', { 'cpu.mode': 'steal' }, 50 / USER_HZ);
  assertReported('system.memory.limit', {}, 3000000 * 1024);
  assertReported('system.memory.linux.available', {}, 2000000 * 1024);
  assertReported('system.cpu.load_average.1m', {}, 7.25);
  assertReported('system.cpu.load_average.15m', {}, 5.75);
  assertReported('system.uptime', {}, 86400.5);
  assertReported('system.process.created', {}, 424242);
});

test('disk: the fake disk, partitions left out', () => {
  assertReported('system.disk.io', { 'system.device': 'vdz', 'disk.io.direction': 'read' }, 20000 * 512);
  assertReported('system.disk.io', { 'system.device': 'vdz', 'disk.io.direction': 'write' }, 40000 * 512);
  assertReported('system.disk.operations', { 'system.device': 'vdz', 'disk.io.direction': 'read' }, 1000);
  const devices = new Set(points.filter((p) => p.name.startsWith('system.disk.')).map((p) => p.attributes['system.device']));
  assert.deepEqual([...devices], ['vdz']);
});

test('network: the fake interface, lo excluded', () => {
  assertReported('system.network.io', { 'network.interface.name': 'fake0', 'network.io.direction': 'receive' }, 111111);
  assertReported('system.network.io', { 'network.interface.name': 'fake0', 'network.io.direction': 'transmit' }, 333333);
  const interfaces = new Set(points.filter((p) => p.name.startsWith('system.network.') && p.attributes['network.interface.name'] !== undefined).map((p) => p.attributes['network.interface.name']));
  assert.deepEqual([...interfaces], ['fake0']);
});

test('filesystem: the host mountpoints from its /proc/1/mountinfo, without the host-root prefix', () => {
  const usage = points.filter((p) => p.name === 'system.filesystem.usage');
  const mountpoints = [...new Set(usage.map((p) => p.attributes['system.filesystem.mountpoint']))].sort();
  assert.deepEqual(mountpoints, ['/', '/data']);
  const byMount = (mountpoint: string): Record<string, unknown> => usage.find((p) => p.attributes['system.filesystem.mountpoint'] === mountpoint)!.attributes;
  assert.equal(byMount('/')['system.device'], '/dev/vdz1');
  assert.equal(byMount('/')['system.filesystem.type'], 'ext4');
  assert.equal(byMount('/data')['system.device'], '/dev/vdz2');
  assert.equal(byMount('/data')['system.filesystem.type'], 'xfs');
});

test('nothing of this machine leaks through: no attribute names the temp root', () => {
  for (const point of points) {
    for (const value of Object.values(point.attributes)) {
      assert.ok(!(typeof value === 'string' && value.includes(workspace.dir)), `${point.name} carries ${String(value)}`);
    }
  }
});
