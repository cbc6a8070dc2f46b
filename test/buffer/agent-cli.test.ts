// End to end with the built CLI as a child process: the buffer across kill -9, a second agent
// on the same directory, `buffer status` beside a running agent, and `buffer drain`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SpillBuffer } from '../../internal/buffer/buffer';
import { LOCK_FILE } from '../../internal/buffer/lock';
import { DB_FILE } from '../../internal/buffer/store';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { silentLogger } from '../../internal/log/logger';
import { encodeLogs } from '../../internal/logs/records';
import { CLI } from '../support/paths';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { BatchFactory, keysOf, pointKey } from './batches';
import { bufferConfig, tempDir } from './helpers';

interface Status {
  batches: number;
  points: number;
  oldestAt?: number;
}

function writeConfig(dir: string, receiver: OtlpReceiver, protocol: 'grpc' | 'http'): string {
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    [
      'telemetryflow:',
      `  endpoint: ${protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl}`,
      `  protocol: ${protocol}`,
      '  timeout: 1s',
      '  tls: { enabled: false }',
      '  retry: { initial_interval: 200ms, max_interval: 1s }',
      'agent:',
      `  data_dir: ${join(dir, 'data')}`,
      'collectors:',
      '  system: { interval: 1s }',
      'exporter:',
      '  otlp: { endpoint_version: v1 }',
      'buffer:',
      `  path: ${join(dir, 'buffer')}`,
      '  flush_interval: 500ms',
      'health: { enabled: false }',
      'heartbeat: { enabled: false }',
      'logging: { level: info }',
      '',
    ].join('\n'),
  );
  return file;
}

function startAgent(config: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'start', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Runs the CLI without blocking the event loop: the receiver lives in this process. */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function status(config: string): Promise<Status> {
  const run = await runCli(['buffer', 'status', '--json', '-c', config]);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Status;
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('buffer with the agent CLI', () => {
  let receiver: OtlpReceiver;
  const children: ChildProcess[] = [];
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await receiver.close();
  });

  test('kill -9 during an outage, restart, collector back: the backlog arrives; a second agent is refused', async () => {
    const { dir, cleanup } = tempDir('cli');
    try {
      const config = writeConfig(dir, receiver, 'grpc');
      await receiver.down();
      const first = startAgent(config);
      children.push(first.child);
      // `buffer status` reads the file while the agent writes it.
      const before = await until(async () => {
        const s = await status(config);
        return s.batches >= 3 ? s : undefined;
      }, 'three spilled batches');
      const second = startAgent(config);
      children.push(second.child);
      assert.equal(await second.exited, 1, 'a second agent on the same buffer directory exits 1');
      assert.match(second.output(), /buffer directory .* is in use by another tfo-agent \(pid \d+\)/);
      first.child.kill('SIGKILL');
      await first.exited;
      const killedAt = Date.now();
      assert.equal(readFileSync(join(dir, 'buffer', LOCK_FILE), 'utf8').trim(), String(first.child.pid), 'kill -9 leaves its lock behind');
      const left = await status(config);
      assert.ok(left.points >= before.points, 'every accepted batch survived kill -9');
      await receiver.up();
      const restarted = startAgent(config);
      children.push(restarted.child);
      // Everything the killed agent had stored arrives, with its original (pre-kill) timestamps.
      await receiver.waitFor((r) => r.points().filter((p) => p.timeUnixNano < BigInt(killedAt) * 1_000_000n).length >= left.points, 20_000);
      await until(async () => ((await status(config)).batches === 0 ? true : undefined), 'backlog drained');
      assert.match(restarted.output(), /"event":"buffer.restored"/);
      restarted.child.kill('SIGTERM');
      assert.equal(await restarted.exited, 0);
    } finally {
      cleanup();
    }
  });

  test('a healthy agent creates no buffer file and never loads SQLite; the first failed export does both', async () => {
    const { dir, cleanup } = tempDir('cli');
    try {
      const config = writeConfig(dir, receiver, 'grpc');
      const file = join(dir, 'buffer', DB_FILE);
      const mapsSqlite = (pid: number) => readFileSync(`/proc/${pid}/maps`, 'utf8').includes('better_sqlite3.node');
      receiver.reset();
      const agent = startAgent(config);
      children.push(agent.child);
      await receiver.waitFor((r) => r.requests.length >= 3, 20_000);
      assert.equal(existsSync(file), false, 'no file while every export succeeds');
      assert.equal(mapsSqlite(agent.child.pid as number), false, 'SQLite is not loaded');
      await receiver.down();
      await until(async () => ((await status(config)).batches >= 1 ? true : undefined), 'a spilled batch');
      assert.equal(mapsSqlite(agent.child.pid as number), true, 'the first spill loaded SQLite');
      receiver.reset();
      await receiver.up();
      await until(async () => ((await status(config)).batches === 0 ? true : undefined), 'backlog drained');
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exited, 0);
      assert.match(agent.output(), /"event":"export.failing"/);
      assert.match(agent.output(), /"event":"export.recovered"/);
    } finally {
      cleanup();
    }
  });

  test('buffer drain replays a backlog without collecting and exits 0 when empty', async () => {
    const { dir, cleanup } = tempDir('cli');
    const factory = new BatchFactory(25);
    try {
      const config = writeConfig(dir, receiver, 'http');
      const buffer = SpillBuffer.open({ config: bufferConfig(join(dir, 'buffer')), accounting: new ExportAccounting(), logger: silentLogger() });
      const batches = await factory.many(40);
      for (const batch of batches) buffer.accept(batch);
      buffer.close();
      assert.deepEqual((await status(config)).points, 40 * 25);
      receiver.reset();
      const drain = await runCli(['buffer', 'drain', '-c', config, '--give-up-after', '20s']);
      assert.equal(drain.status, 0, drain.stdout + drain.stderr);
      assert.match(drain.stdout, /drain: 100% 1000\/1000 points/);
      assert.match(drain.stdout, /replayed 1000 points/);
      const expected = batches.flatMap(keysOf);
      const received = receiver.points().map(pointKey);
      assert.deepEqual([...received].sort(), [...expected].sort(), 'every stored point arrived once, as stored');
      assert.equal(receiver.metricNames().some((n) => !n.startsWith('system.')), false, 'no collector ran');
      assert.equal((await status(config)).batches, 0);
      const again = await runCli(['buffer', 'drain', '-c', config]);
      assert.equal(again.status, 0);
      assert.match(again.stdout, /buffer is empty/);
    } finally {
      await factory.close();
      cleanup();
    }
  });

  test('buffer drain replays stored log records to the logs service, metrics to the metrics service', async () => {
    const { dir, cleanup } = tempDir('cli');
    const factory = new BatchFactory(25);
    try {
      const config = writeConfig(dir, receiver, 'http');
      const buffer = SpillBuffer.open({ config: bufferConfig(join(dir, 'buffer')), accounting: new ExportAccounting(), logger: silentLogger() });
      const [metrics] = await factory.many(1);
      const time: [number, number] = [1_700_000_000, 0];
      const records = ['disk full', 'disk almost full'].map((body) => ({ time, observedTime: time, severity: 'ERROR' as const, body, attributes: {}, resource: { 'host.name': 'web1' } }));
      buffer.accept({ body: encodeLogs(records), points: 2, createdAt: Date.now(), signal: 'logs' });
      buffer.accept(metrics);
      buffer.close();
      receiver.reset();
      const drain = await runCli(['buffer', 'drain', '-c', config, '--give-up-after', '10s']);
      assert.equal(drain.status, 0, drain.stdout + drain.stderr);
      assert.match(drain.stdout, /replayed 27 points/);
      assert.deepEqual(receiver.logRecords().map((r) => r.body), ['disk full', 'disk almost full']);
      assert.deepEqual(receiver.requests.map((r) => r.path).sort(), ['/v1/logs', '/v1/metrics']);
      assert.deepEqual(receiver.points().map(pointKey).sort(), keysOf(metrics).sort());
    } finally {
      await factory.close();
      cleanup();
    }
  });

  test('buffer status of a file the agent is creating this moment (no tables yet) reports an empty backlog, exit 0', async () => {
    const { dir, cleanup } = tempDir('cli');
    try {
      const config = writeConfig(dir, receiver, 'grpc');
      mkdirSync(join(dir, 'buffer'), { recursive: true });
      new Database(join(dir, 'buffer', DB_FILE)).close();
      assert.deepEqual(await status(config), { file: join(dir, 'buffer', DB_FILE), fileBytes: 0, batches: 0, points: 0, bytes: 0, quarantine: { batches: 0, points: 0, bytes: 0 } });
    } finally {
      cleanup();
    }
  });

  test('a stored batch of random bytes is quarantined: drain delivers the good ones, exits 0, and buffer quarantine lists it', async () => {
    const { dir, cleanup } = tempDir('cli');
    const factory = new BatchFactory(25);
    try {
      const config = writeConfig(dir, receiver, 'http');
      const buffer = SpillBuffer.open({ config: bufferConfig(join(dir, 'buffer')), accounting: new ExportAccounting(), logger: silentLogger() });
      const batches = await factory.many(8);
      for (const batch of batches) buffer.accept(batch);
      buffer.close();
      const db = new Database(join(dir, 'buffer', DB_FILE));
      // Random bytes inflate without error about once in 200 draws (a final fixed-Huffman block can end
      // early), and the collector then refuses them as rejected; a reserved block type never inflates.
      const garbage = randomBytes(600);
      garbage[0] |= 0x06;
      db.prepare('UPDATE batches SET body = ? WHERE id = (SELECT min(id) FROM batches)').run(garbage);
      assert.equal(db.pragma('quick_check', { simple: true }), 'ok', 'the file itself is sound');
      db.close();
      receiver.reset();
      const drain = await runCli(['buffer', 'drain', '-c', config, '--give-up-after', '10s']);
      assert.equal(drain.status, 0, drain.stdout + drain.stderr);
      assert.match(drain.stdout, /dropped undecodable=25/);
      assert.match(drain.stderr, /"event":"buffer.quarantined"/);
      const expected = batches.slice(1).flatMap(keysOf);
      assert.deepEqual(receiver.points().map(pointKey).sort(), [...expected].sort(), 'the seven good batches arrived, once');
      const after = await runCli(['buffer', 'status', '-c', config]);
      assert.match(after.stdout, /batches:  0\n/);
      assert.match(after.stdout, /quarantined: 1 batches, 25 points/);
      const listed = await runCli(['buffer', 'quarantine', '--json', '-c', config]);
      assert.equal(listed.status, 0, listed.stderr);
      const rows = JSON.parse(listed.stdout) as Array<{ reason: string; points: number; bytes: number; detail: string }>;
      assert.equal(rows.length, 1);
      assert.equal(rows[0].reason, 'undecodable');
      assert.equal(rows[0].points, 25);
      assert.equal(rows[0].bytes, 600, 'the body is kept as it was found');
      assert.ok(rows[0].detail.length > 0);
    } finally {
      await factory.close();
      cleanup();
    }
  });

  test('buffer.flush_interval: 0s is a config error naming the key, the value and what is expected (exit 2)', async () => {
    const { dir, cleanup } = tempDir('cli');
    try {
      const config = writeConfig(dir, receiver, 'http');
      writeFileSync(config, readFileSync(config, 'utf8').replace('flush_interval: 500ms', 'flush_interval: 0s'));
      const run = await runCli(['config', 'validate', '-c', config]);
      assert.equal(run.status, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /buffer\.flush_interval/);
      assert.match(run.stderr, /"0s"/);
      assert.match(run.stderr, /must be longer than "0s"/);
    } finally {
      cleanup();
    }
  });
});
