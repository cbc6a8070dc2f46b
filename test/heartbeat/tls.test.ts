// The heartbeat's TLS files are read once (through the exporter's TlsSource), not on every
// request: a CA file gone after start does not stop the heartbeats that trusted it.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync, rmSync } from 'node:fs';
import { startHeartbeat } from '../../internal/heartbeat/start';
import { makeCertificate } from '../support/certs';
import { startFakeTelemetryFlowApi, type FakeTelemetryFlowApi } from '../support/fake-telemetryflow-api';
import { captureLogger, heartbeatConfig, tempDir } from './helpers';

let api: FakeTelemetryFlowApi;
let terminator: tls.Server;
let data: ReturnType<typeof tempDir>;

before(async () => {
  api = await startFakeTelemetryFlowApi();
  data = tempDir();
  const cert = makeCertificate(data.path, 'api');
  const apiPort = Number(new URL(api.url).port);
  // TLS in front of the fake API, as a load balancer would terminate it.
  terminator = tls.createServer({ cert: cert.pem, key: readFileSync(cert.keyFile) }, (client) => {
    const upstream = net.connect(apiPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  terminator.close();
  await api.close();
  data.remove();
});

it('keeps sending over TLS after its CA file is removed: the file was read once', async () => {
  const port = (terminator.address() as net.AddressInfo).port;
  const caFile = `${data.path}/api.crt`;
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
