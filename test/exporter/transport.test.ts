// Both transports against the test receiver over real sockets: what arrives on the wire, and how
// every kind of failure is classified.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { AgentConfig, Protocol } from '../../internal/config/types';
import { createTransport } from '../../internal/exporter/transport';
import type { OtlpTransport, SendResult } from '../../internal/exporter/types';
import { startOtlpReceiver, type OtlpReceiver, type OtlpReceiverTls } from '../support/otlp-receiver';
import { collectSample, configFor, failure, SAMPLE_POINTS, SECRET, tlsFile } from './fixtures';

const TIMEOUT_MS = 5000;
let body: Uint8Array;

before(async () => {
  body = ProtobufMetricsSerializer.serializeRequest(await collectSample())!;
});

/** Sends one batch through a transport made from the config, and closes it. */
async function sendOnce(config: AgentConfig, timeoutMs = TIMEOUT_MS): Promise<SendResult> {
  const transport = createTransport(config, 'agent-under-test');
  try {
    return await transport.send(body, timeoutMs);
  } finally {
    await transport.close();
  }
}

for (const protocol of ['grpc', 'http'] as Protocol[]) {
  describe(`${protocol} transport`, () => {
    let receiver: OtlpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver();
    });
    after(() => receiver.close());

    it('delivers the batch: names, values, resource and auth headers arrive as the SDK produced them', async () => {
      receiver.reset();
      const result = await sendOnce(configFor(receiver, protocol));
      assert.deepEqual(result, { outcome: 'ok' });
      assert.equal(receiver.requests.length, 1);
      const req = receiver.requests[0];
      assert.equal(req.protocol, protocol);
      assert.equal(req.headers['x-telemetryflow-key-id'], 'tfk_test-key-id');
      assert.equal(req.headers['x-telemetryflow-key-secret'], SECRET);
      assert.equal(req.headers['x-telemetryflow-agent-id'], 'agent-under-test');
      assert.match(req.headers['user-agent'], /^tfo-agent\/\d+\.\d+\.\d+ /);
      const points = receiver.points();
      assert.equal(points.length, SAMPLE_POINTS);
      assert.deepEqual(
        points.map((p) => [p.name, p.kind, p.unit, p.value, p.attributes]),
        [
          ['test.requests', 'sum', '{request}', 7, { route: '/a' }],
          ['test.temperature', 'gauge', 'Cel', 21.5, { sensor: 'a' }],
          ['test.temperature', 'gauge', 'Cel', -3.25, { sensor: 'b' }],
          ['test.latency', 'histogram', 's', 0.2, {}],
        ],
      );
      assert.equal(points[0].resource['service.name'], 'exporter-test');
    });

    it('sends only the agent id when no credentials are set, plus extra headers', async () => {
      receiver.reset();
      const config = configFor(receiver, protocol, (c) => {
        c.telemetryflow.api_key_id = '';
        c.telemetryflow.api_key_secret = '';
        c.exporter.otlp.headers = { 'x-scope-orgid': 'tenant-7' };
      });
      assert.equal((await sendOnce(config)).outcome, 'ok');
      const headers = receiver.requests[0].headers;
      assert.equal(headers['x-telemetryflow-agent-id'], 'agent-under-test');
      assert.equal(headers['x-telemetryflow-key-id'], undefined);
      assert.equal(headers['x-telemetryflow-key-secret'], undefined);
      assert.equal(headers['x-scope-orgid'], 'tenant-7');
    });

    it('compresses with gzip when configured, and only then', async () => {
      const encodingHeader = protocol === 'grpc' ? 'grpc-encoding' : 'content-encoding';
      receiver.reset();
      assert.equal((await sendOnce(configFor(receiver, protocol, (c) => (c.exporter.otlp.compression = 'gzip')))).outcome, 'ok');
      assert.equal((await sendOnce(configFor(receiver, protocol, (c) => (c.exporter.otlp.compression = 'none')))).outcome, 'ok');
      assert.equal(receiver.requests[0].headers[encodingHeader], 'gzip');
      assert.notEqual(receiver.requests[1].headers[encodingHeader], 'gzip');
      assert.equal(receiver.points().length, 2 * SAMPLE_POINTS, 'both decode to the same points');
    });

    it('classifies collector answers and keeps the collector message (never the secret)', async () => {
      const cases: Array<[Parameters<OtlpReceiver['respondWith']>[0], SendResult['outcome'], string]> = [
        [{ httpStatus: 400, message: `bad data from key ${SECRET}` }, 'rejected', 'rejected'],
        [{ httpStatus: 401, message: 'unknown key' }, 'retryable', 'credentials'],
        [{ httpStatus: 403, message: 'forbidden' }, 'retryable', 'credentials'],
        [{ httpStatus: 500, message: 'boom' }, 'rejected', 'server_error'],
        [{ httpStatus: 413, message: 'too big' }, 'rejected', 'too_large'],
        [{ httpStatus: 503, message: 'overloaded' }, 'retryable', 'unavailable'],
        [{ grpcCode: GrpcStatus.UNAVAILABLE, message: 'restarting' }, 'retryable', 'unavailable'],
        [{ grpcCode: GrpcStatus.INVALID_ARGUMENT, message: 'bad metric' }, 'rejected', 'rejected'],
        [{ grpcCode: GrpcStatus.RESOURCE_EXHAUSTED, message: 'quota' }, protocol === 'grpc' ? 'rejected' : 'retryable', protocol === 'grpc' ? 'too_large' : 'throttled'],
        [{ grpcCode: GrpcStatus.RESOURCE_EXHAUSTED, retryAfterSeconds: 2, message: 'quota' }, 'retryable', 'throttled'],
        [{ grpcCode: GrpcStatus.INTERNAL, message: 'crash' }, 'rejected', 'server_error'],
      ];
      const transport = createTransport(configFor(receiver, protocol), 'agent-under-test');
      try {
        for (const [response, outcome, reason] of cases) {
          receiver.respondWith({ ...response, times: 1 });
          const r = failure(await transport.send(body, TIMEOUT_MS));
          const label = JSON.stringify(response);
          assert.equal(r.outcome, outcome, label);
          assert.equal(r.reason, reason, label);
          assert.ok(r.message.includes(response.message!.replace(SECRET, '***')), `${label}: ${r.message}`);
          assert.ok(!r.message.includes(SECRET), `${label}: secret leaked into ${r.message}`);
        }
        assert.equal((await transport.send(body, TIMEOUT_MS)).outcome, 'ok', 'accepts again after the scripted answers');
      } finally {
        await transport.close();
      }
    });

    it('scrubs the value of an extra credential header that the collector echoes', async () => {
      const config = configFor(receiver, protocol);
      config.exporter.otlp.headers = { 'X-Api-Key': 'key-echo-81', 'X-Auth-Credential': 'cred-echo-82', 'X-Team': 'ops' };
      receiver.respondWith({ httpStatus: 400, message: 'key key-echo-81 with cred-echo-82 not valid for team ops', times: 1 });
      const r = failure(await sendOnce(config));
      assert.ok(r.message.includes('key *** with *** not valid for team ops'), r.message);
    });

    it('429 / RESOURCE_EXHAUSTED carries the retry delay', async () => {
      receiver.respondWith({ httpStatus: 429, retryAfterSeconds: 3, message: 'slow down', times: 1 });
      const r = failure(await sendOnce(configFor(receiver, protocol)));
      assert.equal(r.reason, 'throttled');
      assert.equal(r.retryAfterMs, 3000);
    });

    it('reports the collector partial success', async () => {
      receiver.respondWith({ partialSuccess: { rejectedDataPoints: 2, errorMessage: 'two too old' }, times: 1 });
      assert.deepEqual(await sendOnce(configFor(receiver, protocol)), { outcome: 'ok', partialSuccess: { rejectedDataPoints: 2, errorMessage: 'two too old' } });
    });

    it('times out against a collector that never answers', async () => {
      receiver.hang();
      try {
        const r = failure(await sendOnce(configFor(receiver, protocol), 300));
        assert.equal(r.outcome, 'retryable');
        assert.equal(r.reason, 'timeout');
      } finally {
        receiver.accept();
      }
    });

    it('says connection_refused while the collector is down and delivers again once it is back', async () => {
      const transport = createTransport(configFor(receiver, protocol), 'agent-under-test');
      try {
        assert.equal((await transport.send(body, TIMEOUT_MS)).outcome, 'ok');
        await receiver.down();
        const r = failure(await transport.send(body, TIMEOUT_MS));
        assert.equal(r.outcome, 'retryable');
        // The first send may meet the closing connection (gRPC: "Stream refused by server").
        assert.ok(['connection_refused', 'connection_reset', 'unavailable'].includes(r.reason), `${r.reason}: ${r.message}`);
        const again = failure(await transport.send(body, TIMEOUT_MS));
        assert.equal(again.reason, 'connection_refused', again.message);
        await receiver.up();
        receiver.reset();
        // The gRPC channel may still be backing off its reconnect for a moment.
        let result = await transport.send(body, TIMEOUT_MS);
        for (let i = 0; i < 20 && result.outcome !== 'ok'; i++) {
          await new Promise((r) => setTimeout(r, 200));
          result = await transport.send(body, TIMEOUT_MS);
        }
        assert.equal(result.outcome, 'ok');
        assert.equal(receiver.accepted().length, 1);
      } finally {
        await transport.close();
        await receiver.up();
      }
    });
  });
}

describe('http transport paths', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  it('posts to /v2/metrics by default, /v1/metrics for endpoint_version v1, and an explicit metrics_endpoint', async () => {
    receiver.reset();
    await sendOnce(configFor(receiver, 'http'));
    await sendOnce(configFor(receiver, 'http', (c) => (c.exporter.otlp.endpoint_version = 'v1')));
    await sendOnce(configFor(receiver, 'http', (c) => ((c.exporter.otlp.endpoint_version = 'v2'), (c.exporter.otlp.metrics_endpoint = '/v1/metrics'))));
    await sendOnce(configFor(receiver, 'http', (c) => (c.exporter.otlp.metrics_endpoint = `${receiver.httpUrl}/v1/metrics`)));
    assert.deepEqual(receiver.requests.map((r) => r.path), ['/v2/metrics', '/v1/metrics', '/v1/metrics', '/v1/metrics']);
  });

  it('rejects a wrong path with the collector text', async () => {
    const r = failure(await sendOnce(configFor(receiver, 'http', (c) => (c.exporter.otlp.metrics_endpoint = '/v9/metrics'))));
    assert.equal(r.outcome, 'rejected');
    assert.equal(r.status, 404);
    assert.match(r.message, /HTTP 404: no OTLP metrics endpoint at POST \/v9\/metrics/);
  });

  it('reads Retry-After given as an HTTP date', async () => {
    receiver.respondWith({ httpStatus: 503, retryAfter: new Date(Date.now() + 60_000).toUTCString(), times: 1 });
    const r = failure(await sendOnce(configFor(receiver, 'http')));
    assert.equal(r.reason, 'unavailable');
    assert.ok(r.retryAfterMs !== undefined && r.retryAfterMs > 55_000 && r.retryAfterMs <= 60_000, String(r.retryAfterMs));
  });
});

describe('connection failures before any answer', () => {
  it('a port nobody listens on is connection_refused (both protocols)', async () => {
    const receiver = await startOtlpReceiver();
    const config = (protocol: Protocol) => configFor(receiver, protocol);
    const grpcConfig = config('grpc');
    const httpConfig = config('http');
    await receiver.close();
    for (const c of [grpcConfig, httpConfig]) {
      const r = failure(await sendOnce(c));
      assert.equal(r.outcome, 'retryable');
      assert.equal(r.reason, 'connection_refused', r.message);
    }
  });
});

const serverTls: OtlpReceiverTls = { cert: readFileSync(tlsFile('server.crt')), key: readFileSync(tlsFile('server.key')) };

function tlsConfig(receiver: OtlpReceiver, protocol: Protocol, tls: Partial<AgentConfig['telemetryflow']['tls']>): AgentConfig {
  return configFor(receiver, protocol, (c) => {
    c.telemetryflow.tls = { ...c.telemetryflow.tls, enabled: true, ...tls };
    if (protocol === 'http') c.telemetryflow.endpoint = receiver.httpUrl;
  });
}

for (const protocol of ['grpc', 'http'] as Protocol[]) {
  describe(`${protocol} over TLS`, () => {
    let receiver: OtlpReceiver;
    let mtls: OtlpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver({ tls: serverTls });
      mtls = await startOtlpReceiver({ tls: { ...serverTls, ca: readFileSync(tlsFile('ca.crt')), requireClientCert: true } });
    });
    after(async () => {
      await receiver.close();
      await mtls.close();
    });

    it('verifies the collector with ca_file and delivers', async () => {
      receiver.reset();
      const result = await sendOnce(tlsConfig(receiver, protocol, { ca_file: tlsFile('ca.crt') }));
      assert.deepEqual(result, { outcome: 'ok' });
      assert.equal(receiver.points().length, SAMPLE_POINTS);
    });

    it('refuses an untrusted certificate as a tls failure', async () => {
      receiver.reset();
      const r = failure(await sendOnce(tlsConfig(receiver, protocol, {})));
      assert.equal(r.outcome, 'retryable');
      assert.equal(r.reason, 'tls', r.message);
      assert.equal(receiver.requests.length, 0);
    });

    it('skip_verify accepts the untrusted certificate', async () => {
      receiver.reset();
      assert.deepEqual(await sendOnce(tlsConfig(receiver, protocol, { skip_verify: true })), { outcome: 'ok' });
      assert.equal(receiver.requests.length, 1);
    });

    it('mTLS: the client certificate is presented, and without it the collector refuses', async () => {
      mtls.reset();
      const withCert = await sendOnce(tlsConfig(mtls, protocol, { ca_file: tlsFile('ca.crt'), cert_file: tlsFile('client.crt'), key_file: tlsFile('client.key') }));
      assert.deepEqual(withCert, { outcome: 'ok' });
      assert.equal(mtls.requests.length, 1);
      const without = failure(await sendOnce(tlsConfig(mtls, protocol, { ca_file: tlsFile('ca.crt') })));
      assert.equal(without.outcome, 'retryable');
      assert.equal(without.reason, 'tls', without.message);
      assert.match(without.message, /certificate required/);
      assert.equal(mtls.requests.length, 1);
    });
  });
}

describe('createTransport', () => {
  it('names the key of an unreadable TLS file', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const config = tlsConfig(receiver, 'http', { ca_file: '/nonexistent/ca.pem' });
      config.telemetryflow.endpoint = `127.0.0.1:${receiver.httpPort}`;
      assert.throws(() => createTransport(config, 'a'), /telemetryflow\.tls\.ca_file: cannot read "\/nonexistent\/ca\.pem"/);
    } finally {
      await receiver.close();
    }
  });

  it('reports protocol and target without credentials', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const transports: OtlpTransport[] = [createTransport(configFor(receiver, 'grpc'), 'a'), createTransport(configFor(receiver, 'http'), 'a')];
      assert.deepEqual(
        transports.map((t) => [t.protocol, t.target]),
        [
          ['grpc', `grpc://${receiver.grpcAddress}`],
          ['http', `${receiver.httpUrl}/v2/metrics`],
        ],
      );
      for (const t of transports) await t.close();
    } finally {
      await receiver.close();
    }
  });
});
