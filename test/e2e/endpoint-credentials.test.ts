// A password written into an endpoint URL is a credential: it is sent where it belongs (Basic auth
// to the TelemetryFlow API and to the OTLP collector) and appears in no log line and no output.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { startFakeTelemetryFlowApi } from '../support/fake-telemetryflow-api';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { agentConfig, AgentProcess, runCli, tempWorkspace } from './agent-process';

const workspace = tempWorkspace('tfo-userinfo-');
after(() => workspace.cleanup());

const OTLP_PASSWORD = 'otlp-pw-Zq81';
const API_PASSWORD = 'api-pw-Xv27';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function withCredentials(url: string, user: string, password: string): string {
  return url.replace('://', `://${user}:${password}@`);
}

for (const protocol of ['grpc', 'http'] as const) {
  test(`${protocol}: endpoint passwords are sent as Basic auth and never logged or shown`, async () => {
    const receiver = await startOtlpReceiver();
    const api = await startFakeTelemetryFlowApi({ keyId: 'tfk_e2e_key', keySecret: 'tfs_e2e_secret_value' });
    const config = agentConfig({ protocol, endpoint: withCredentials(`http://${receiver.grpcAddress}`, 'collector-user', OTLP_PASSWORD), dataDir: workspace.dir });
    if (protocol === 'http') (config.telemetryflow as Record<string, unknown>).endpoint = withCredentials(receiver.httpUrl, 'collector-user', OTLP_PASSWORD);
    Object.assign(config.telemetryflow as Record<string, unknown>, { backend_endpoint: withCredentials(api.url, 'api-user', API_PASSWORD) });
    config.heartbeat = { enabled: true, interval: '1m' };
    const file = workspace.file(`userinfo-${protocol}.yaml`, stringify(config));

    const agent = new AgentProcess(['start', '--config', file]);
    try {
      await receiver.waitFor((r) => r.accepted().length >= 1, 15_000);
      await api.waitFor((requests) => requests.length >= 1, 15_000);
      await agent.waitForEvent('heartbeat.started');
      assert.equal(receiver.accepted()[0].headers.authorization, basic('collector-user', OTLP_PASSWORD));
      assert.equal(api.requests[0].headers.authorization, basic('api-user', API_PASSWORD));
      agent.signal('SIGTERM');
      assert.equal((await agent.exited).code, 0, agent.transcript());
      const transcript = agent.transcript();
      for (const password of [OTLP_PASSWORD, API_PASSWORD]) assert.ok(!transcript.includes(password), `${password} logged:\n${transcript}`);
      const started = agent.lines.find((line) => line.event === 'heartbeat.started');
      assert.match(String(started?.url), /^http:\/\/api-user:\*\*\*@127\.0\.0\.1:\d+\/api\/v2\/agents\//);
    } finally {
      await agent.kill();
      await receiver.close();
      await api.close();
    }

    for (const command of [['config', 'show'], ['config', 'validate']]) {
      const result = runCli([...command, '--config', file]);
      assert.equal(result.status, 0, result.stderr);
      const output = result.stdout + result.stderr;
      for (const password of [OTLP_PASSWORD, API_PASSWORD]) assert.ok(!output.includes(password), `${command.join(' ')} prints ${password}:\n${output}`);
      assert.match(output, /api-user:\*\*\*@127\.0\.0\.1/, `${command.join(' ')} shows the backend without its password`);
    }
  });
}

test('an endpoint with credentials and an Authorization header too: exit 2, password not printed', () => {
  const config = agentConfig({ protocol: 'grpc', endpoint: `http://u:${OTLP_PASSWORD}@127.0.0.1:4317`, dataDir: workspace.dir, headers: { Authorization: 'Bearer tok' } });
  const file = workspace.file('conflict.yaml', stringify(config));
  for (const command of [['start'], ['config', 'validate']]) {
    const result = runCli([...command, '--config', file]);
    assert.equal(result.status, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /telemetryflow\.endpoint: "http:\/\/u:\*\*\*@127\.0\.0\.1:4317" carries credentials and exporter\.otlp\.headers sets Authorization too/);
    assert.ok(!(result.stdout + result.stderr).includes(OTLP_PASSWORD));
  }
});

test('a bad endpoint with a password is reported without it', () => {
  const config = agentConfig({ protocol: 'grpc', endpoint: `u:${OTLP_PASSWORD}@127.0.0.1`, dataDir: workspace.dir });
  (config.telemetryflow as Record<string, unknown>).backend_endpoint = `ftp://u:${API_PASSWORD}@127.0.0.1/api`;
  const result = runCli(['config', 'validate', '--config', workspace.file('bad-endpoint.yaml', stringify(config))]);
  assert.equal(result.status, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /telemetryflow\.backend_endpoint: "ftp:\/\/u:\*\*\*@127\.0\.0\.1\/api" must be an http/);
  for (const password of [OTLP_PASSWORD, API_PASSWORD]) assert.ok(!result.stderr.includes(password), result.stderr);
});
