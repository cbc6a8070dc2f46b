// The running agent as an operator meets it: probes, an unreachable collector, SIGHUP reloads.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { agentConfig, runCli, tempWorkspace, withAgent, type AgentConfigOptions, type AgentProcess } from './agent-process';

const workspace = tempWorkspace('tfo-lifecycle-');
after(() => workspace.cleanup());

function grpcConfig(receiver: OtlpReceiver, slug: string, overrides: Partial<AgentConfigOptions> = {}): Record<string, unknown> {
  return agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: join(workspace.dir, slug), interval: '1s', ...overrides });
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls until `check` returns a value; bounded, for states the agent reaches on its own. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopCleanly(agent: AgentProcess): Promise<void> {
  agent.signal('SIGTERM');
  const exit = await agent.exited;
  assert.equal(exit.code, 0, agent.transcript());
}

test('/health and /ready on the configured address', async () => {
  const receiver = await startOtlpReceiver();
  const config = workspace.file('health.yaml', stringify(grpcConfig(receiver, 'health')));
  await withAgent(['--config', config], receiver, async (agent) => {
    const listening = await agent.waitForEvent('health.listening');
    const base = `http://${String(listening.address)}`;
    const identity = await agent.waitForEvent('agent.identity');

    await eventually('ready', async () => ((await getJson(`${base}/ready`)).status === 200 ? true : undefined));
    await receiver.waitFor((r) => r.accepted().length >= 1, 10_000);
    const health = await eventually('an export in /health', async () => {
      const { status, body } = await getJson(`${base}/health`);
      assert.equal(status, 200);
      return body.last_export ? body : undefined;
    });
    assert.equal(health.status, 'ok', JSON.stringify(health));
    assert.equal(health.agent_id, identity.agent_id);
    assert.equal(typeof health.version, 'string');
    assert.equal(typeof health.uptime_s, 'number');
    assert.equal((health.last_collection as { ok: boolean }).ok, true);
    assert.equal((health.last_export as { ok: boolean }).ok, true);
    await stopCleanly(agent);
  });
});

test('a health port in use ends the start with exit 1 before anything is collected or exported', async () => {
  const receiver = await startOtlpReceiver();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(blocker.address() as AddressInfo).port}`;
  const settings = grpcConfig(receiver, 'port-in-use', { health: { enabled: true, address } }) as { buffer: { enabled: boolean } };
  settings.buffer.enabled = true;
  const config = workspace.file('port-in-use.yaml', stringify(settings));
  try {
    await withAgent(['start', '-c', config], receiver, async (agent) => {
      const exit = await agent.exited;
      assert.equal(exit.code, 1, agent.transcript());
      assert.ok(agent.lines.some((l) => l.event === 'agent.start_failed' && /already in use/.test(String(l.err))), agent.transcript());
      assert.equal(receiver.requests.length, 0, 'a failed start sends nothing: a restart loop would duplicate the series');
      assert.ok(!agent.lines.some((l) => l.event === 'collectors.started'), agent.transcript());
    });
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});

test('an unreachable collector: the agent keeps running, logs the outage once with its reason, and its end', async () => {
  const receiver = await startOtlpReceiver();
  await receiver.down();
  const config = workspace.file('outage.yaml', stringify(grpcConfig(receiver, 'outage')));
  await withAgent(['start', '-c', config], receiver, async (agent) => {
    const failing = await agent.waitForLog((l) => /^export.*\.failing$/.test(l.event ?? ''));
    assert.equal(failing.reason, 'connection_refused', JSON.stringify(failing));
    const listening = await agent.waitForEvent('health.listening');
    const lastExport = await eventually('a failed export in /health', async () => {
      const body = (await getJson(`http://${String(listening.address)}/health`)).body;
      return body.last_export && (body.last_export as { ok: boolean }).ok === false ? (body.last_export as Record<string, unknown>) : undefined;
    });
    assert.equal(lastExport.reason, 'connection_refused');

    await receiver.up();
    const recovered = await agent.waitForLog((l) => /^export.*\.recovered$/.test(l.event ?? ''));
    assert.ok(Number(recovered.failures) >= 1);
    const failingLines = agent.lines.filter((l) => /^export.*\.failing$/.test(l.event ?? ''));
    assert.equal(failingLines.length, 1, `one line when the outage starts, not one per cycle:\n${agent.transcript()}`);
    await receiver.waitFor((r) => r.accepted().length >= 1, 10_000);
    await stopCleanly(agent);
  });
});

test('SIGHUP: a broken file is rejected with its reason and the agent keeps exporting; a valid change takes effect', async () => {
  const receiver = await startOtlpReceiver();
  const config = workspace.file('reload.yaml', stringify(grpcConfig(receiver, 'reload', { agentName: 'before-reload' })));
  await withAgent(['start', '-c', config], receiver, async (agent) => {
    await agent.waitForEvent('agent.started');
    await receiver.waitFor((r) => r.accepted().length >= 1, 10_000);

    writeFileSync(config, 'collectors:\n  system:\n    interval: "often"\n');
    agent.signal('SIGHUP');
    const rejected = await agent.waitForEvent('config.reload_rejected');
    assert.match(String(rejected.msg), /collectors\.system\.interval/);
    // Listed problem by problem: the reloaded loader's ConfigError is the class the agent checks for.
    assert.deepEqual((rejected.problems as Array<{ path: string }>).map((p) => p.path), ['collectors.system.interval']);
    const seen = receiver.accepted().length;
    await receiver.waitFor((r) => r.accepted().length >= seen + 2, 10_000);
    assert.ok(receiver.points().every((p) => p.resource['telemetryflow.agent.name'] === 'before-reload'));

    writeFileSync(config, stringify(grpcConfig(receiver, 'reload', { agentName: 'after-reload' })));
    agent.signal('SIGHUP');
    const reloaded = await agent.waitForEvent('config.reloaded');
    assert.deepEqual(reloaded.changed, ['agent.name']);
    await receiver.waitFor((r) => r.points().some((p) => p.resource['telemetryflow.agent.name'] === 'after-reload'), 10_000);
    await stopCleanly(agent);
  });
});

test('a storm of SIGHUPs during a reload: one more reload with the latest file, one line per reload', async () => {
  const receiver = await startOtlpReceiver();
  const config = workspace.file('storm.yaml', stringify(grpcConfig(receiver, 'storm', { agentName: 'before' })));
  await withAgent(['start', '-c', config], receiver, async (agent) => {
    await receiver.waitFor((r) => r.accepted().length >= 1, 10_000);
    // The reload's last export of the old pipeline waits on a collector that does not answer.
    receiver.hang();
    writeFileSync(config, stringify(grpcConfig(receiver, 'storm', { agentName: 'first' })));
    agent.signal('SIGHUP');
    await agent.waitForEvent('config.reloading');
    writeFileSync(config, stringify(grpcConfig(receiver, 'storm', { agentName: 'last' })));
    // Apart, so that the kernel does not merge them into one pending signal.
    for (let i = 0; i < 20; i += 1) {
      agent.signal('SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    receiver.accept();
    await agent.waitForLog((l) => l.event === 'config.reloaded' && agent.lines.filter((x) => x.event === 'config.reloaded').length === 2, 20_000);
    await receiver.waitFor((r) => r.points().some((p) => p.resource['telemetryflow.agent.name'] === 'last'), 10_000);
    await stopCleanly(agent);
    const events = agent.lines.map((l) => l.event).filter((e) => e === 'signal' || String(e).startsWith('config.'));
    assert.deepEqual(events, ['signal', 'config.reloading', 'signal', 'config.reloaded', 'config.reloading', 'config.reloaded'], agent.transcript());
  });
});

test('SIGHUP moving buffer.path during an outage names the backlog left in the old file', async () => {
  const receiver = await startOtlpReceiver();
  await receiver.down();
  const withBuffer = (path: string): Record<string, unknown> => {
    const settings = grpcConfig(receiver, 'moved-buffer') as { buffer: { enabled: boolean; path: string } };
    settings.buffer = { enabled: true, path: join(workspace.dir, 'moved-buffer', path) };
    return settings;
  };
  const config = workspace.file('moved-buffer.yaml', stringify(withBuffer('first')));
  await withAgent(['start', '-c', config], receiver, async (agent) => {
    await agent.waitForLog((l) => l.event === 'export.failing');
    writeFileSync(config, stringify(withBuffer('second')));
    agent.signal('SIGHUP');
    const left = await agent.waitForEvent('buffer.left_behind');
    assert.equal(left.path, join(workspace.dir, 'moved-buffer', 'first'));
    assert.ok(Number(left.points) > 0, JSON.stringify(left));
    await agent.waitForEvent('config.reloaded');
    await stopCleanly(agent);
  });
});

test('SIGTERM while the collector hangs: the sends are cut short within agent.shutdown_timeout, the batches spill, exit 0', async () => {
  const receiver = await startOtlpReceiver();
  const options = { interval: '60s', shutdownTimeout: '1s' };
  const settings = grpcConfig(receiver, 'slow-stop', options) as { buffer: { enabled: boolean; path: string } };
  settings.buffer.enabled = true;
  const config = workspace.file('slow-stop.yaml', stringify(settings));
  await withAgent(['start', '-c', config], receiver, async (agent) => {
    await receiver.waitFor((r) => r.accepted().length >= 1, 15_000);
    // The collector now takes every request and never answers: the final export would wait its
    // 5 s timeout, longer than the 1 s the agent may take to stop.
    receiver.hang();
    agent.signal('SIGTERM');
    const exit = await agent.exited;
    assert.equal(exit.code, 0, agent.transcript());
    assert.ok(!agent.lines.some((l) => l.event === 'agent.shutdown_timeout'), agent.transcript());
    const stopped = agent.lines.find((l) => l.event === 'agent.stopped');
    const accounting = stopped?.accounting as { produced: number; exported_live: number; left_in_buffer: number } | undefined;
    assert.ok(accounting && accounting.produced > accounting.exported_live, agent.transcript());
    assert.equal(accounting.left_in_buffer, accounting.produced - accounting.exported_live, 'the final batch is in the buffer');
  });
  const status = runCli(['buffer', 'status', '--json', '-c', config]);
  assert.equal(status.status, 0, status.stderr);
  assert.ok((JSON.parse(status.stdout) as { points: number }).points > 0, status.stdout);
});
