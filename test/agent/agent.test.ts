// The Agent in-process against a real OTLP receiver: what a reload returns and what it changes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { Agent } from '../../internal/agent/agent';
import { Pipeline, type PipelineDeps } from '../../internal/agent/pipeline';
import type { AgentConfig } from '../../internal/config/types';
import { loadConfig, type LoadOptions } from '../../internal/config/load';
import { createLogger } from '../../internal/log/logger';
import { apiGet } from '../support/api-client';
import { rotatingCertificate } from '../support/certs';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { agentConfig, AgentProcess, cleanEnv } from '../e2e/agent-process';

const dir = mkdtempSync(join(tmpdir(), 'tfo-agent-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function capturingLogger(): { logger: ReturnType<typeof createLogger>; events: () => string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  return { logger, events: () => lines.map((l) => String((JSON.parse(l) as { event?: string }).event)) };
}

/** An in-process agent on `config`, written to `file` so that a reload reads it again. */
function agentOnFile(file: string, config: Record<string, unknown>): { agent: Agent; events: () => string[] } {
  writeFileSync(file, stringify(config));
  const loadOptions: LoadOptions = { file, env: cleanEnv(), cwd: dir };
  const { logger, events } = capturingLogger();
  return { agent: new Agent({ loaded: loadConfig(loadOptions), loadOptions, logger, env: {} }), events };
}

async function healthOf(address: string | undefined): Promise<Record<string, unknown>> {
  assert.ok(address, 'health listener not running');
  return (await (await fetch(`http://${address}/health`)).json()) as Record<string, unknown>;
}

test('reload: unchanged, rejected (old config kept), applied (listener kept while health is unchanged, closed when turned off)', async () => {
  const receiver = await startOtlpReceiver();
  const file = join(dir, 'agent.yaml');
  const base = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: dir, interval: '60s', health: { enabled: true, address: '127.0.0.1:0' } });
  const { agent, events } = agentOnFile(file, base);
  try {
    await agent.start();
    const firstAddress = agent.healthAddress;
    assert.equal((await healthOf(firstAddress)).agent_id, agent.health.agentId);
    assert.equal(agent.health.ready, true, 'ready after the first collection at start');

    assert.equal(await agent.reload(), 'unchanged');

    writeFileSync(file, 'telemetryflow:\n  protocol: pigeon\n');
    assert.equal(await agent.reload(), 'rejected');
    assert.equal(agent.currentConfig.telemetryflow.protocol, 'grpc');
    assert.ok(events().includes('config.reload_rejected'));

    writeFileSync(file, stringify({ ...base, agent: { ...(base.agent as object), name: 'renamed' }, health: { enabled: true, address: '127.0.0.1:0' } }));
    assert.equal(await agent.reload(), 'applied');
    assert.equal(agent.currentConfig.agent.name, 'renamed');
    // health.address did not change (still port 0), so the listener stayed where it was.
    assert.equal(agent.healthAddress, firstAddress);

    writeFileSync(file, stringify({ ...base, health: { enabled: false } }));
    assert.equal(await agent.reload(), 'applied');
    assert.equal(agent.healthAddress, undefined);
    await assert.rejects(fetch(`http://${firstAddress}/health`));
  } finally {
    await agent.stop();
    await receiver.close();
  }
  assert.deepEqual(
    events().filter((e) => e.startsWith('config.') || e.startsWith('agent.')),
    ['agent.starting', 'agent.identity', 'agent.started', 'config.reload_unchanged', 'config.reload_rejected', 'config.reloading', 'agent.identity', 'config.reloaded', 'config.reloading', 'agent.identity', 'config.reloaded', 'agent.stopped'],
  );
});

/** This process's descriptors on host-wide kernel files (not the processes family's /proc/<pid>/stat). */
function kernelFiles(): string[] {
  const links = readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  });
  return links.filter((l) => (l.startsWith('/proc/') || l.startsWith('/sys/')) && !/^\/proc\/\d+\/stat$/.test(l)).sort();
}

test('the system families read their kernel files through descriptors kept across cycles, closed when the pipeline is rebuilt or stops', async () => {
  const receiver = await startOtlpReceiver();
  const file = join(dir, 'kept.yaml');
  const base = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: join(dir, 'kept-agent'), interval: '1s', health: { enabled: false } });
  const system = (base.collectors as { system: Record<string, unknown> }).system;
  const config = { ...base, api: { enabled: false }, collectors: { system: { ...system, disk: true, network: true, paging: true, filesystem: true, pressure: true } } };
  const before = kernelFiles();
  const { agent } = agentOnFile(file, config);
  const exports = async (n: number): Promise<void> => {
    const target = receiver.accepted().length + n;
    while (receiver.accepted().length < target) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  try {
    await agent.start();
    await exports(2);
    const kept = kernelFiles();
    for (const path of ['/proc/stat', '/proc/meminfo', '/proc/loadavg', '/proc/vmstat', '/proc/diskstats']) assert.ok(kept.includes(path), `${path} kept open: ${kept.join(', ')}`);
    await exports(3);
    assert.deepEqual(kernelFiles(), kept, 'the same descriptors, none added, cycle after cycle');

    writeFileSync(file, stringify({ ...config, agent: { ...(base.agent as object), name: 'rebuilt' } }));
    assert.equal(await agent.reload(), 'applied');
    await exports(2);
    assert.deepEqual(kernelFiles(), kept, 'the rebuilt pipeline holds its own set; the old one is closed');
  } finally {
    await agent.stop();
    await receiver.close();
  }
  assert.deepEqual(kernelFiles(), before, 'all closed at stop');
});

test('reload: a storm of reloads reads the file twice, the one running and one after it with the latest file', async () => {
  const receiver = await startOtlpReceiver();
  const file = join(dir, 'storm.yaml');
  const base = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: join(dir, 'storm-agent'), interval: '60s' });
  const { agent, events } = agentOnFile(file, base);
  try {
    await agent.start();
    const named = (name: string): void => writeFileSync(file, stringify({ ...base, agent: { ...(base.agent as object), name } }));
    named('first');
    const first = agent.reload();
    // The first reload has read the file and is rebuilding the pipeline when the storm comes.
    await new Promise((resolve) => setImmediate(resolve));
    const storm = Array.from({ length: 50 }, () => agent.reload());
    named('after-the-storm');
    assert.equal(await first, 'applied');
    assert.deepEqual(new Set(await Promise.all(storm)), new Set(['applied']));
    assert.equal(agent.currentConfig.agent.name, 'after-the-storm');
  } finally {
    await agent.stop();
    await receiver.close();
  }
  assert.deepEqual(
    events().filter((e) => e.startsWith('config.')),
    ['config.reloading', 'config.reloaded', 'config.reloading', 'config.reloaded'],
  );
});

test('reload: a new pipeline that cannot start (its buffer held by another agent) leaves the previous one running and exporting', async () => {
  const receiver = await startOtlpReceiver();
  const otherReceiver = await startOtlpReceiver();
  const file = join(dir, 'held.yaml');
  const own = join(dir, 'own-buffer');
  const held = join(dir, 'held-buffer');
  const base = { ...agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: join(dir, 'held-agent'), interval: '2s', health: { enabled: false } }), buffer: { enabled: true, path: own } };
  writeFileSync(file, stringify(base));
  // Another agent process holds the second buffer directory.
  const otherFile = join(dir, 'other.yaml');
  writeFileSync(otherFile, stringify({ ...agentConfig({ protocol: 'grpc', endpoint: otherReceiver.grpcAddress, dataDir: join(dir, 'other-agent'), health: { enabled: false } }), buffer: { enabled: true, path: held } }));
  const other = new AgentProcess(['start', '--config', otherFile]);
  const loadOptions: LoadOptions = { file, env: cleanEnv(), cwd: dir };
  const { logger, events } = capturingLogger();
  const agent = new Agent({ loaded: loadConfig(loadOptions), loadOptions, logger, env: {} });
  try {
    await other.waitForEvent('agent.started');
    await agent.start();
    writeFileSync(file, stringify({ ...base, buffer: { enabled: true, path: held } }));
    assert.equal(await agent.reload(), 'failed');
    assert.equal(agent.currentConfig.buffer.path, own, 'the previous configuration runs on');
    assert.ok(events().includes('config.reload_failed'));
    const before = receiver.accepted().length;
    await receiver.waitFor((r) => r.accepted().length >= before + 2, 10_000);
    assert.equal(agent.health.ready, true);
  } finally {
    await agent.stop();
    await other.kill();
    await receiver.close();
    await otherReceiver.close();
  }
  assert.deepEqual(
    events().filter((e) => e.startsWith('config.') || e.startsWith('agent.')),
    ['agent.starting', 'agent.identity', 'agent.started', 'config.reloading', 'agent.identity', 'config.reload_failed', 'agent.identity', 'agent.stopped'],
  );
});

test('reload: when the previous pipeline cannot start again either, the agent says so once, closes its listeners and ends', async () => {
  const receiver = await startOtlpReceiver();
  const file = join(dir, 'restore.yaml');
  const base = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: join(dir, 'restore-agent'), interval: '60s', health: { enabled: true, address: '127.0.0.1:0' } });
  writeFileSync(file, stringify(base));
  const loadOptions: LoadOptions = { file, env: cleanEnv(), cwd: dir };
  const { logger, events } = capturingLogger();
  const fatal: Error[] = [];
  let starts = 0;
  // The first start is the real one; every later one fails, as a disk gone read-only would.
  const startPipeline = (config: AgentConfig, deps: PipelineDeps): Promise<Pipeline> =>
    (starts += 1) === 1 ? Pipeline.start(config, deps) : Promise.reject(new Error(`start ${starts} refused`));
  const agent = new Agent({ loaded: loadConfig(loadOptions), loadOptions, logger, env: {}, startPipeline, onFatal: (err) => fatal.push(err) });
  try {
    await agent.start();
    const address = agent.healthAddress;
    writeFileSync(file, stringify({ ...base, agent: { ...(base.agent as object), name: 'renamed' } }));
    assert.equal(await agent.reload(), 'fatal');
    assert.equal(fatal.length, 1);
    assert.match(fatal[0].message, /new configuration failed to start \(start 2 refused\) and the previous one failed to start again \(start 3 refused\)/);
    assert.equal(agent.healthAddress, undefined, 'no probe answers for an agent without a pipeline');
    await assert.rejects(fetch(`http://${address}/health`));
    // A later SIGHUP or SIGTERM finds nothing half-built.
    assert.equal(await agent.reload(), 'failed');
  } finally {
    await agent.stop();
    await receiver.close();
  }
  assert.deepEqual(
    events().filter((e) => e.startsWith('config.') || e.startsWith('agent.')),
    ['agent.starting', 'agent.identity', 'agent.started', 'config.reloading', 'config.reload_failed', 'agent.reload_restore_failed', 'agent.stopped'],
  );
});

test('reload (SIGHUP) re-reads the local API certificate in place: a renewed one is served without a restart', async () => {
  const receiver = await startOtlpReceiver();
  const { certFile, keyFile, first, second, rotate } = rotatingCertificate(dir, 'api');
  const base = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: join(dir, 'api-tls-agent'), interval: '60s' });
  const { agent, events } = agentOnFile(join(dir, 'api-tls.yaml'), { ...base, api: { enabled: true, address: '127.0.0.1:0', tls: { cert_file: certFile, key_file: keyFile }, csv_dir: join(dir, 'api-tls-csv') } });
  try {
    await agent.start();
    const url = `${agent.apiUrl}/health`;
    assert.equal((await apiGet(url, { ca: first.pem })).peerCommonName, 'api first');
    rotate();
    assert.equal(await agent.reload(), 'unchanged', 'the file names did not change: no rebuild');
    assert.equal(agent.apiUrl, url.replace(/\/health$/, ''), 'the same listener');
    assert.equal((await apiGet(url, { ca: second.pem })).peerCommonName, 'api second');
  } finally {
    await agent.stop();
    await receiver.close();
  }
  assert.ok(events().includes('api.tls_reloaded'));
});
