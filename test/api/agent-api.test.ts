// The local API in the real agent process: started from the config, no collector anywhere.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { agentConfig, runCli, tempWorkspace, withAgent } from '../e2e/agent-process';
import { apiGet } from '../support/api-client';
import { freePort } from '../support/peers';

const workspace = tempWorkspace('tfo-api-agent-');
after(() => workspace.cleanup());

const TOKEN = 'tok-0123456789abcdef';
const NO_PEER = { close: async () => undefined };

/** An agent exporting to a loopback port nothing listens on, with the API on `api`. */
async function configFile(slug: string, api: Record<string, unknown>): Promise<string> {
  const closed = await freePort();
  const config = { ...agentConfig({ protocol: 'grpc', endpoint: `127.0.0.1:${closed}`, dataDir: join(workspace.dir, slug), interval: '1s' }), api };
  return workspace.file(`${slug}.yaml`, stringify(config));
}

describe('the agent with the API on', () => {
  it('serves /health with no collector running, and the token guards the rest', async () => {
    const file = await configFile('on', { enabled: true, address: '127.0.0.1:0', collect_interval: '200ms' });
    await withAgent(['--config', file], NO_PEER, async (agent) => {
      const listening = await agent.waitForEvent('api.listening');
      const base = `http://${String(listening.address)}`;
      const health = await apiGet(`${base}/health`);
      assert.equal(health.status, 200);
      const body = health.json<{ status: string; time: string; host: string }>();
      assert.equal(body.status, 'ok');
      assert.match(body.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(body.time) - Date.now()) < 5_000);
      assert.equal(typeof body.host, 'string');
      assert.ok(body.host.length > 0);
    });
  });

  it('TFO_AGENT_API_TOKEN sets the token; config show masks it', async () => {
    const file = await configFile('token', { enabled: true, address: '127.0.0.1:0' });
    const shown = runCli(['config', 'show', '--config', file], { env: { TFO_AGENT_API_TOKEN: TOKEN } });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /token: "\*\*\*"|token: '\*\*\*'|token: \*\*\*/);
    assert.doesNotMatch(shown.stdout + shown.stderr, new RegExp(TOKEN));
    const validated = runCli(['config', 'validate', '--config', file], { env: { TFO_AGENT_API_TOKEN: TOKEN } });
    assert.match(validated.stdout, /local API: +http:\/\/127\.0\.0\.1:0, token set/);
    assert.doesNotMatch(validated.stdout, new RegExp(TOKEN));
  });

  it('refuses a non-loopback address without a token: exit 2 naming api.token', async () => {
    const file = await configFile('open', { enabled: true, address: '0.0.0.0:0' });
    const result = runCli(['start', '--config', file]);
    assert.equal(result.status, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /api\.token/);
    assert.match(result.stderr, /0\.0\.0\.0:0/);
  });

  it('warns about a non-loopback address with a token but without TLS', async () => {
    const file = await configFile('plain', { enabled: true, address: '0.0.0.0:0', token: TOKEN });
    const result = runCli(['config', 'validate', '--config', file]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /api\.tls: .*plain text/);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(TOKEN));
  });

  it('api.enabled false starts no listener', async () => {
    const file = await configFile('off', { enabled: false, address: '127.0.0.1:0' });
    await withAgent(['--config', file], NO_PEER, async (agent) => {
      await agent.waitForEvent('agent.started');
      assert.equal(agent.lines.some((line) => typeof line.event === 'string' && line.event.startsWith('api.')), false, agent.transcript());
    });
  });
});
