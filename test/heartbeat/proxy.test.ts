// The heartbeat reaches the TelemetryFlow API through the proxy the environment names, as the OTLP
// export does: a host whose only way out is a proxy sends both or neither.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHeartbeat } from '../../internal/heartbeat/start';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy';
import { startFakeTelemetryFlowApi, type FakeTelemetryFlowApi } from '../support/fake-telemetryflow-api';
import { captureLogger, heartbeatConfig, startTlsTerminator, tempDir } from './helpers';

let api: FakeTelemetryFlowApi;
let proxy: ConnectProxy;
let terminator: Awaited<ReturnType<typeof startTlsTerminator>>;
let data: ReturnType<typeof tempDir>;

before(async () => {
  api = await startFakeTelemetryFlowApi();
  proxy = await startConnectProxy();
  data = tempDir();
  terminator = await startTlsTerminator(Number(new URL(api.url).port), data.path);
});

after(async () => {
  terminator.close();
  await proxy.close();
  await api.close();
  data.remove();
});

/** Runs a heartbeat on `backend` with `env` until the API has one more heartbeat. */
async function oneHeartbeat(backend: string, env: NodeJS.ProcessEnv, change: Parameters<typeof heartbeatConfig>[2] = () => {}): Promise<void> {
  const before = api.heartbeats().length;
  const heartbeat = startHeartbeat({ config: heartbeatConfig(backend, data.path, change), agentId: 'proxied-agent', logger: captureLogger().logger, env, firstDelayMs: 10, random: () => 0.5 });
  try {
    await api.waitFor(() => api.heartbeats().length > before, 8000);
  } finally {
    await heartbeat.stop();
  }
}

it('http: goes through the CONNECT tunnel http_proxy names', async () => {
  const apiPort = new URL(api.url).port;
  proxy.targets.length = 0;
  await oneHeartbeat(api.url, { http_proxy: proxy.url });
  assert.ok(proxy.targets.includes(`127.0.0.1:${apiPort}`), `proxy asked for ${proxy.targets.join(', ')}`);
});

it('https: goes through the tunnel https_proxy names, TLS end to end with the API', async () => {
  const { port } = terminator;
  proxy.targets.length = 0;
  await oneHeartbeat(`https://127.0.0.1:${port}/api/v2`, { HTTPS_PROXY: proxy.url }, (c) => {
    c.telemetryflow.tls.ca_file = terminator.caFile;
  });
  assert.ok(proxy.targets.includes(`127.0.0.1:${port}`), `proxy asked for ${proxy.targets.join(', ')}`);
});

it('NO_PROXY exempts the API: a direct connection', async () => {
  proxy.targets.length = 0;
  await oneHeartbeat(api.url, { http_proxy: proxy.url, NO_PROXY: '127.0.0.1' });
  assert.deepEqual(proxy.targets, []);
});
