// The heartbeat's TLS files are read once (through the exporter's TlsSource), not on every
// request: a CA file gone after start does not stop the heartbeats that trusted it.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startHeartbeat } from '../../internal/heartbeat/start';
import { startFakeTelemetryFlowApi, type FakeTelemetryFlowApi } from '../support/fake-telemetryflow-api';
import { captureLogger, heartbeatConfig, startTlsTerminator, tempDir } from './helpers';

let api: FakeTelemetryFlowApi;
let terminator: Awaited<ReturnType<typeof startTlsTerminator>>;
let data: ReturnType<typeof tempDir>;

before(async () => {
  api = await startFakeTelemetryFlowApi();
  data = tempDir();
  terminator = await startTlsTerminator(Number(new URL(api.url).port), data.path);
});

after(async () => {
  terminator.close();
  await api.close();
  data.remove();
});

it('keeps sending over TLS after its CA file is removed: the file was read once', async () => {
  const { port } = terminator;
  const { caFile } = terminator;
  const config = heartbeatConfig(`https://127.0.0.1:${port}/api/v2`, data.path, (c) => {
    c.heartbeat.interval = 1000;
    c.telemetryflow.tls.ca_file = caFile;
  });
  const heartbeat = startHeartbeat({ config, agentId: 'tls-agent', logger: captureLogger().logger, firstDelayMs: 50, random: () => 0.5 });
  try {
    await api.waitFor((r) => api.heartbeats().length >= 1 && r.length >= 1);
    rmSync(caFile);
    const before = api.heartbeats().length;
    await api.waitFor(() => api.heartbeats().length >= before + 2, 8000);
  } finally {
    await heartbeat.stop();
  }
  assert.ok(api.heartbeats().length >= 3);
});
