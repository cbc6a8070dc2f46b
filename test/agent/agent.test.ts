// The Agent in-process against a real OTLP receiver: what a reload returns and what it changes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { Agent } from '../../internal/agent/agent';
import { loadConfig, type LoadOptions } from '../../internal/config/load';
import { createLogger } from '../../internal/log/logger';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { agentConfig, cleanEnv } from '../e2e/agent-process';

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

async function healthOf(address: string | undefined): Promise<Record<string, unknown>> {
  assert.ok(address, 'health listener not running');
  return (await (await fetch(`http://${address}/health`)).json()) as Record<string, unknown>;
}

test('reload: unchanged, rejected (old config kept), applied (listener kept while health is unchanged, closed when turned off)', async () => {
  const receiver = await startOtlpReceiver();
  const file = join(dir, 'agent.yaml');
  const base = agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: dir, interval: '60s', health: { enabled: true, address: '127.0.0.1:0' } });
  writeFileSync(file, stringify(base));
  const loadOptions: LoadOptions = { file, env: cleanEnv(), cwd: dir };
  const { logger, events } = capturingLogger();
  const agent = new Agent({ loaded: loadConfig(loadOptions), loadOptions, logger, env: {} });
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
