// The same data under either naming profile: the built CLI, every family on (process tracking
// the agent itself), against the OTLP receiver, once with collectors.system.naming semconv and
// once with hostmetrics; and once with the systeminformation backend forced, which must speak
// the same names for the families it serves. Expected names come from the reference table of
// host metrics, not from the code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedPoint } from '../support/otlp-receiver';
import { AgentProcess, agentConfig, tempWorkspace } from './agent-process';

const hasSwap = readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;

// name -> [kind, unit (where the reference gives one), an attribute key its points carry]
type Expectation = Record<string, [ReceivedPoint['kind'], string | undefined, string | undefined]>;

const SEMCONV: Expectation = {
  'system.cpu.time': ['sum', 's', 'cpu.mode'],
  'system.cpu.logical.count': ['sum', '{cpu}', undefined],
  'system.cpu.load_average.1m': ['gauge', '{thread}', undefined],
  'system.cpu.load_average.15m': ['gauge', '{thread}', undefined],
  'system.memory.usage': ['sum', 'By', 'system.memory.state'],
  'system.memory.linux.available': ['sum', 'By', undefined],
  'system.memory.linux.slab.usage': ['sum', 'By', 'system.memory.linux.slab.state'],
  'system.paging.operations': ['sum', '{operation}', 'system.paging.direction'],
  'system.paging.faults': ['sum', '{fault}', 'system.paging.fault.type'],
  'system.disk.io': ['sum', 'By', 'disk.io.direction'],
  'system.disk.operations': ['sum', '{operation}', 'system.device'],
  'system.disk.io_time': ['sum', 's', 'system.device'],
  'system.disk.operation_time': ['sum', 's', 'disk.io.direction'],
  'system.disk.merged': ['sum', '{operation}', 'disk.io.direction'],
  'system.filesystem.usage': ['sum', 'By', 'system.filesystem.mountpoint'],
  'system.filesystem.utilization': ['gauge', '1', 'system.filesystem.type'],
  'system.network.io': ['sum', 'By', 'network.interface.name'],
  'system.network.packet.count': ['sum', '{packet}', 'network.io.direction'],
  'system.network.errors': ['sum', '{error}', 'network.interface.name'],
  'system.network.packet.dropped': ['sum', '{packet}', 'network.interface.name'],
  'system.network.connection.count': ['sum', '{connection}', 'network.connection.state'],
  'system.process.count': ['sum', '{process}', 'process.state'],
  'system.process.created': ['sum', '{process}', undefined],
  'system.uptime': ['gauge', 's', undefined],
  'process.cpu.time': ['sum', 's', 'cpu.mode'],
  'process.memory.usage': ['sum', 'By', 'process.pid'],
  'process.memory.virtual': ['sum', 'By', 'process.executable.name'],
  'process.thread.count': ['sum', undefined, 'process.pid'],
  'process.unix.file_descriptor.count': ['sum', undefined, 'process.pid'],
};

const HOSTMETRICS: Expectation = {
  'system.cpu.time': ['sum', 's', 'state'],
  'system.cpu.load_average.1m': ['gauge', '{thread}', undefined],
  'system.cpu.load_average.15m': ['gauge', '{thread}', undefined],
  'system.memory.usage': ['sum', 'By', 'state'],
  'system.paging.operations': ['sum', '{operations}', 'direction'],
  'system.paging.faults': ['sum', '{faults}', 'type'],
  'system.disk.io': ['sum', 'By', 'direction'],
  'system.disk.operations': ['sum', '{operations}', 'device'],
  'system.disk.io_time': ['sum', 's', 'device'],
  'system.disk.operation_time': ['sum', 's', 'direction'],
  'system.disk.merged': ['sum', '{operations}', 'direction'],
  'system.disk.weighted_io_time': ['sum', 's', 'device'],
  'system.disk.pending_operations': ['sum', '{operations}', 'device'],
  'system.filesystem.usage': ['sum', 'By', 'mountpoint'],
  'system.filesystem.inodes.usage': ['sum', '{inodes}', 'state'],
  'system.network.io': ['sum', 'By', 'device'],
  'system.network.packets': ['sum', '{packets}', 'direction'],
  'system.network.errors': ['sum', '{errors}', 'device'],
  'system.network.dropped': ['sum', '{packets}', 'device'],
  'system.network.connections': ['sum', '{connections}', 'protocol'],
  'system.processes.count': ['sum', '{processes}', 'status'],
  'system.processes.created': ['sum', '{processes}', undefined],
  'system.uptime': ['gauge', 's', undefined],
  'process.cpu.time': ['sum', 's', 'state'],
  'process.memory.usage': ['sum', 'By', 'process.pid'],
  'process.memory.virtual': ['sum', 'By', 'process.executable.name'],
};

// The families the systeminformation backend serves on Linux (the others would spawn a process
// per cycle there, or have no portable source): their semconv names.
const PORTABLE_ON_LINUX = ['system.cpu.time', 'system.cpu.logical.count', 'system.cpu.load_average.1m', 'system.memory.usage', 'system.uptime', 'system.filesystem.usage'];

if (hasSwap) {
  SEMCONV['system.paging.usage'] = ['sum', 'By', 'system.paging.state'];
  HOSTMETRICS['system.paging.usage'] = ['sum', 'By', 'state'];
}

interface Run {
  receiver: OtlpReceiver;
  agent: AgentProcess;
  workspace: ReturnType<typeof tempWorkspace>;
}

const runs = new Map<string, Run>();

async function startRun(label: string, system: Record<string, unknown>): Promise<Run> {
  const receiver = await startOtlpReceiver();
  const workspace = tempWorkspace(`tfo-naming-${label}-`);
  const config = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: workspace.dir, interval: '1s', health: { enabled: false } });
  config.collectors = {
    system: { enabled: true, interval: '1s', ...system },
    process: { enabled: true, interval: '1s', processes: ['node'] },
  };
  const file = workspace.file('agent.yaml', stringify(config));
  return { receiver, workspace, agent: new AgentProcess(['start', '-c', file]) };
}

async function waitForNames(run: Run, names: string[]): Promise<void> {
  await run.receiver.waitFor((r) => names.every((name) => r.metricNames().includes(name)), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\nmissing: ${names.filter((n) => !run.receiver.metricNames().includes(n)).join(', ')}\n${run.agent.transcript()}`);
  });
}

before(async () => {
  runs.set('semconv', await startRun('semconv', { naming: 'semconv' }));
  runs.set('hostmetrics', await startRun('hostmetrics', { naming: 'hostmetrics' }));
  runs.set('portable', await startRun('portable', { naming: 'semconv', backend: 'systeminformation' }));
  await Promise.all([
    waitForNames(runs.get('semconv')!, Object.keys(SEMCONV)),
    waitForNames(runs.get('hostmetrics')!, Object.keys(HOSTMETRICS)),
    waitForNames(runs.get('portable')!, PORTABLE_ON_LINUX),
  ]);
});

after(async () => {
  for (const run of runs.values()) {
    await run.agent.kill();
    await run.receiver.close();
    run.workspace.cleanup();
  }
});

function checkProfile(run: Run, expected: Expectation, other: Expectation): void {
  const points = run.receiver.points();
  for (const [name, [kind, unit, key]] of Object.entries(expected)) {
    const mine = points.filter((p) => p.name === name);
    assert.ok(mine.length > 0, `${name}: no points`);
    assert.equal(mine[0].kind, kind, `${name}: kind`);
    if (unit !== undefined) assert.equal(mine[0].unit, unit, `${name}: unit`);
    // The process family's identity travels on its resource, one per process.
    const carries = (p: ReceivedPoint, k: string): boolean => k in (name.startsWith('process.') && k.startsWith('process.') ? p.resource : p.attributes);
    if (key !== undefined) assert.ok(mine.every((p) => carries(p, key)), `${name}: every point carries ${key}; got ${JSON.stringify(mine[0].attributes)}`);
  }
  // Names only the other profile has must not appear.
  const foreign = Object.keys(other).filter((name) => !(name in expected));
  assert.deepEqual(foreign.filter((name) => run.receiver.metricNames().includes(name)), []);
}

test('semconv profile: every family under the semantic-convention names and attributes', () => {
  checkProfile(runs.get('semconv')!, SEMCONV, HOSTMETRICS);
  const modes = new Set(runs.get('semconv')!.receiver.points().filter((p) => p.name === 'system.cpu.time').map((p) => p.attributes['cpu.mode']));
  assert.deepEqual([...modes].sort(), ['idle', 'interrupt', 'iowait', 'nice', 'steal', 'system', 'user']);
});

test('hostmetrics profile: every family under the Collector hostmetrics names and bare attribute keys', () => {
  checkProfile(runs.get('hostmetrics')!, HOSTMETRICS, SEMCONV);
  const points = runs.get('hostmetrics')!.receiver.points();
  const states = new Set(points.filter((p) => p.name === 'system.cpu.time').map((p) => p.attributes.state));
  assert.deepEqual([...states].sort(), ['idle', 'interrupt', 'nice', 'softirq', 'steal', 'system', 'user', 'wait']);
  const memory = new Set(points.filter((p) => p.name === 'system.memory.usage').map((p) => p.attributes.state));
  assert.deepEqual([...memory].sort(), ['buffered', 'cached', 'free', 'slab_reclaimable', 'slab_unreclaimable', 'used']);
});

test('systeminformation backend: the families it serves arrive under the same semconv names', () => {
  const run = runs.get('portable')!;
  const semconvRun = runs.get('semconv')!;
  for (const name of PORTABLE_ON_LINUX) {
    const portable = run.receiver.points().find((p) => p.name === name)!;
    const procfs = semconvRun.receiver.points().find((p) => p.name === name)!;
    assert.equal(portable.unit, procfs.unit, `${name}: unit`);
    assert.equal(portable.kind, procfs.kind, `${name}: kind`);
  }
  const skipped = run.agent.lines.filter((line) => line.event === 'collectors.skipped');
  assert.equal(skipped.length, 1, `one log line names the skipped families\n${run.agent.transcript()}`);
  assert.deepEqual(Object.keys(skipped[0].skipped as Record<string, string>).sort(), ['disk', 'network', 'pressure', 'process', 'processes']);
});
