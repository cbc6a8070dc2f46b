// Where log records go, against real OTLP services on loopback: beside the metrics by default
// (same collector, same settings), or where the OTEL_EXPORTER_OTLP_LOGS_* variables (the
// exporter.otlp.logs keys) say: their own URL, protocol, headers, compression, CA and client
// certificate, while the metrics export keeps its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../internal/config/load';
import { createTransport } from '../../internal/exporter/transport';
import { encodeLogs, type LogRecord } from '../../internal/logs/records';
import { GRPC_LOGS_EXPORT_PATH, startOtlpReceiver } from '../support/otlp-receiver';
import { FIXTURES } from '../support/paths';
import { tempDir } from '../config/temp';

const temp = tempDir();
const TLS = join(FIXTURES, 'tls');

const RECORD: LogRecord = { time: [1_700_000_000, 0], observedTime: [1_700_000_000, 0], severity: 'WARN', body: 'disk almost full', attributes: {}, resource: { 'host.name': 'web1' } };

function load(env: Record<string, string>) {
  return loadConfig({ file: temp.write(`logs-${Math.random().toString(36).slice(2)}.yaml`, 'buffer: {enabled: false}\n'), env: { HOME: temp.dir, ...env }, cwd: temp.dir }).config;
}

describe('the logs service\'s target', () => {
  it('follows the metrics export: the same collector\'s LogsService over gRPC, with its headers and compression', async () => {
    const collector = await startOtlpReceiver();
    after(() => collector.close());
    const config = load({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://${collector.grpcAddress}`, OTEL_EXPORTER_OTLP_HEADERS: 'X-Team=ops' });
    const logs = createTransport(config, 'logs-target-test', {}, 'logs');
    try {
      assert.equal((await logs.send(encodeLogs([RECORD]), 3000)).outcome, 'ok');
    } finally {
      await logs.close();
    }
    const [request] = collector.requests;
    assert.deepEqual([request.signal, request.path, request.headers['x-team'], request.headers['grpc-encoding']], ['logs', GRPC_LOGS_EXPORT_PATH, 'ops', 'gzip']);
    assert.deepEqual(collector.logRecords().map((r) => r.body), ['disk almost full']);
  });

  it('OTEL_EXPORTER_OTLP_LOGS_*: its own URL over HTTPS with its CA and client certificate, headers and compression; the metrics keep theirs', async () => {
    const metrics = await startOtlpReceiver();
    const logsService = await startOtlpReceiver({
      tls: { cert: readFileSync(join(TLS, 'server.crt')), key: readFileSync(join(TLS, 'server.key')), ca: readFileSync(join(TLS, 'ca.crt')), requireClientCert: true },
    });
    after(() => Promise.all([metrics.close(), logsService.close()]));
    const config = load({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${metrics.grpcAddress}`,
      OTEL_EXPORTER_OTLP_HEADERS: 'X-Team=ops',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${logsService.httpUrl}/v1/logs`,
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'X-Logs-Tenant=t1',
      OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: join(TLS, 'ca.crt'),
      OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: join(TLS, 'client.crt'),
      OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: join(TLS, 'client.key'),
    });
    const logs = createTransport(config, 'logs-target-test', {}, 'logs');
    const metricsTransport = createTransport(config, 'logs-target-test', {});
    try {
      assert.equal(logs.target, `${logsService.httpUrl}/v1/logs`);
      assert.equal(metricsTransport.target, `grpc://${metrics.grpcAddress}`, 'the metrics export is not moved');
      const result = await logs.send(encodeLogs([RECORD]), 3000);
      assert.equal(result.outcome, 'ok', JSON.stringify(result));
    } finally {
      await logs.close();
      await metricsTransport.close();
    }
    assert.equal(metrics.requests.length, 0);
    const [request] = logsService.requests;
    assert.deepEqual([request.signal, request.path, request.headers['x-logs-tenant'], request.headers['x-team']], ['logs', '/v1/logs', 't1', 'ops']);
    assert.equal(request.headers['content-encoding'], undefined, 'compression none');
    assert.deepEqual(logsService.logRecords().map((r) => r.body), ['disk almost full']);
  });
});
