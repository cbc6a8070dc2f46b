// Pure parts of the exporter: where exports go, which headers they carry, how failures are read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status as grpcJsStatus } from '@grpc/grpc-js';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig } from '../../internal/config/types';
import { classifyGrpcStatus, classifyHttpStatus, createScrubber, MAX_MESSAGE_CHARS, reasonForErrorCode } from '../../internal/exporter/classify';
import { EndpointError, resolveExportTarget } from '../../internal/exporter/endpoint';
import { GrpcStatus, grpcStatusOfHttp } from '../../internal/exporter/grpc-status';
import { checkHeaders, exportHeaders, HeaderError, secretHeaderValues } from '../../internal/exporter/headers';
import { decodeExportResponse, decodeRpcStatus } from '../../internal/exporter/rpc-status';
import { VERSION } from '../../internal/version/version';
import { encodeResponse } from '../support/otlp-receiver';

function config(mutate: (c: AgentConfig) => void): AgentConfig {
  const c = defaultConfig();
  mutate(c);
  return c;
}

/** The target without its connection details, which the next test checks. */
function target(c: AgentConfig): { protocol: string; url?: string; address?: string; tls: boolean } {
  const { destination: _destination, ...rest } = resolveExportTarget(c);
  return rest;
}

describe('resolveExportTarget', () => {
  it('gRPC: host:port as is, scheme stripped, default port 4317, TLS from scheme or tls.enabled', () => {
    assert.deepEqual(target(config((c) => (c.telemetryflow.endpoint = 'collector:4317'))), { protocol: 'grpc', address: 'collector:4317', tls: true });
    assert.deepEqual(
      target(config((c) => ((c.telemetryflow.endpoint = 'collector:4317'), (c.telemetryflow.tls.enabled = false)))),
      { protocol: 'grpc', address: 'collector:4317', tls: false },
    );
    assert.deepEqual(target(config((c) => (c.telemetryflow.endpoint = 'http://collector'))), { protocol: 'grpc', address: 'collector:4317', tls: false });
    assert.deepEqual(
      target(config((c) => ((c.telemetryflow.endpoint = 'https://collector:9000/'), (c.telemetryflow.tls.enabled = false)))),
      { protocol: 'grpc', address: 'collector:9000', tls: true },
    );
    assert.deepEqual(target(config((c) => (c.telemetryflow.endpoint = '[::1]:4317'))), { protocol: 'grpc', address: '[::1]:4317', tls: true });
  });

  it('HTTP: /v2/metrics by default, /v1 by endpoint_version, default port 4318', () => {
    const http = (mutate: (c: AgentConfig) => void) =>
      target(
        config((c) => {
          c.telemetryflow.protocol = 'http';
          c.telemetryflow.tls.enabled = false;
          mutate(c);
        }),
      );
    assert.deepEqual(http((c) => (c.telemetryflow.endpoint = 'collector:4318')), { protocol: 'http', url: 'http://collector:4318/v2/metrics', tls: false });
    assert.deepEqual(http((c) => ((c.telemetryflow.endpoint = 'collector'), (c.exporter.otlp.endpoint_version = 'v1'))), { protocol: 'http', url: 'http://collector:4318/v1/metrics', tls: false });
    assert.deepEqual(http((c) => (c.telemetryflow.endpoint = 'https://collector.example.com/otlp/')), { protocol: 'http', url: 'https://collector.example.com:4318/otlp/v2/metrics', tls: true });
    assert.deepEqual(http((c) => ((c.telemetryflow.endpoint = 'collector:4318'), (c.telemetryflow.tls.enabled = true))), { protocol: 'http', url: 'https://collector:4318/v2/metrics', tls: true });
  });

  it('HTTP: an explicit metrics_endpoint wins over endpoint_version, as a path or a whole URL', () => {
    const http = (endpoint: string, metrics: string) =>
      target(
        config((c) => {
          c.telemetryflow.protocol = 'http';
          c.telemetryflow.tls.enabled = false;
          c.telemetryflow.endpoint = endpoint;
          c.exporter.otlp.endpoint_version = 'v1';
          c.exporter.otlp.metrics_endpoint = metrics;
        }),
      );
    assert.equal((http('collector:4318', '/custom/metrics') as { url: string }).url, 'http://collector:4318/custom/metrics');
    assert.equal((http('collector:4318', 'custom') as { url: string }).url, 'http://collector:4318/custom');
    assert.deepEqual(http('collector:4318', 'https://other:443/v2/metrics'), { protocol: 'http', url: 'https://other:443/v2/metrics', tls: true });
  });

  it('names the key and the value of an endpoint it cannot use', () => {
    assert.throws(
      () => target(config((c) => (c.telemetryflow.endpoint = 'ftp://collector:21'))),
      (e: unknown) => e instanceof EndpointError && e.key === 'telemetryflow.endpoint' && /"ftp:\/\/collector:21"/.test(e.message),
    );
    assert.throws(() => target(config((c) => (c.telemetryflow.endpoint = 'a b:c'))), /telemetryflow.endpoint: "a b:c" must be host:port/);
  });

  it('connects to the host and port, or to the unix socket of a unix: endpoint', () => {
    assert.deepEqual(resolveExportTarget(config((c) => (c.telemetryflow.endpoint = '[::1]:4317'))).destination, { kind: 'tcp', host: '::1', port: 4317 });
    const grpcUnix = resolveExportTarget(config((c) => ((c.telemetryflow.endpoint = 'unix:///run/otel/otlp.sock'), (c.telemetryflow.tls.enabled = false))));
    assert.deepEqual(grpcUnix, { protocol: 'grpc', address: 'unix:/run/otel/otlp.sock', tls: false, destination: { kind: 'unix', path: '/run/otel/otlp.sock' } });
    const httpUnix = resolveExportTarget(
      config((c) => ((c.telemetryflow.protocol = 'http'), (c.telemetryflow.endpoint = 'unix:/run/otel/otlp.sock'), (c.telemetryflow.tls.enabled = false))),
    );
    assert.deepEqual(httpUnix, { protocol: 'http', url: 'http://localhost/v2/metrics', tls: false, destination: { kind: 'unix', path: '/run/otel/otlp.sock' } });
  });
});

describe('exportHeaders', () => {
  it('sends the key pair when set, the agent id always, extra headers, and a User-Agent', () => {
    const h = exportHeaders(
      config((c) => {
        c.telemetryflow.api_key_id = 'tfk_1';
        c.telemetryflow.api_key_secret = 'tfs_2';
        c.exporter.otlp.headers = { 'X-Tenant': 't1', 'x-telemetryflow-agent-id': 'spoofed' };
      }),
      'agent-42',
    );
    const { 'User-Agent': agent, ...rest } = h;
    assert.match(agent, new RegExp(`^tfo-agent/${VERSION.replace(/\./g, '\\.')} \\(\\w+; \\w+\\)$`));
    assert.deepEqual(rest, {
      'X-Tenant': 't1',
      'X-TelemetryFlow-Key-ID': 'tfk_1',
      'X-TelemetryFlow-Key-Secret': 'tfs_2',
      'X-TelemetryFlow-Agent-ID': 'agent-42',
    });
    assert.deepEqual(secretHeaderValues(h), ['tfs_2']);
    assert.deepEqual(secretHeaderValues({ 'X-Api-Key': 'k1', Cookie: 'c2', 'X-Auth-Credential': 'a3', Authorization: 'Bearer t4', 'X-Team': 'ops' }), ['k1', 'c2', 'a3', 'Bearer t4']);
  });

  it('refuses a header HTTP cannot carry, naming the header but not the value', () => {
    assert.throws(
      () => checkHeaders({ 'X-Token': 'abc\r\ninjected: 1' }),
      (e: unknown) => e instanceof HeaderError && e.header === 'X-Token' && !e.message.includes('abc') && /exporter\.otlp\.headers: "X-Token"/.test(e.message),
    );
    assert.throws(() => checkHeaders({ 'bad name': 'v' }), /"bad name" cannot be sent: not a valid header name/);
    assert.doesNotThrow(() => checkHeaders({ 'X-Scope-OrgID': 'tenant-1' }));
  });

  it('leaves the credentials out when unset but keeps the agent id', () => {
    const h = exportHeaders(defaultConfig(), 'agent-1');
    assert.equal(h['X-TelemetryFlow-Key-ID'], undefined);
    assert.equal(h['X-TelemetryFlow-Key-Secret'], undefined);
    assert.equal(h['X-TelemetryFlow-Agent-ID'], 'agent-1');
  });
});

describe('failure classification', () => {
  const scrub = createScrubber(['s3cr3t']);

  it('HTTP statuses', () => {
    const table: Array<[number, string, string]> = [
      [200, 'ok', ''],
      [400, 'rejected', 'rejected'],
      [401, 'retryable', 'credentials'],
      [403, 'retryable', 'credentials'],
      [404, 'rejected', 'rejected'],
      [408, 'retryable', 'request_timeout'],
      [413, 'rejected', 'too_large'],
      [429, 'retryable', 'throttled'],
      [500, 'rejected', 'server_error'],
      [501, 'rejected', 'server_error'],
      [502, 'retryable', 'unavailable'],
      [503, 'retryable', 'unavailable'],
      [504, 'retryable', 'unavailable'],
      [505, 'rejected', 'server_error'],
      [507, 'rejected', 'server_error'],
      [409, 'rejected', 'rejected'],
    ];
    for (const [status, outcome, reason] of table) {
      const r = classifyHttpStatus(status, 'm', undefined);
      assert.equal(r.outcome, outcome, `HTTP ${status}`);
      if (r.outcome !== 'ok') assert.equal(r.reason, reason, `HTTP ${status}`);
    }
  });

  it('gRPC codes, and HTTP answers that carry no gRPC status', () => {
    // The codes are gRPC's own: every name grpc-js knows has the same number here.
    for (const [name, code] of Object.entries(grpcJsStatus)) {
      if (typeof code === 'number') assert.equal(GrpcStatus[name as keyof typeof GrpcStatus], code, name);
    }
    const table: Array<[number, string, string, string?]> = [
      [GrpcStatus.INVALID_ARGUMENT, 'rejected', 'rejected'],
      [GrpcStatus.UNIMPLEMENTED, 'rejected', 'rejected'],
      [GrpcStatus.UNAUTHENTICATED, 'retryable', 'credentials'],
      [GrpcStatus.PERMISSION_DENIED, 'retryable', 'credentials'],
      [GrpcStatus.RESOURCE_EXHAUSTED, 'rejected', 'too_large'],
      [GrpcStatus.ABORTED, 'retryable', 'aborted'],
      [GrpcStatus.OUT_OF_RANGE, 'retryable', 'aborted'],
      [GrpcStatus.DATA_LOSS, 'retryable', 'aborted'],
      [GrpcStatus.DEADLINE_EXCEEDED, 'retryable', 'request_timeout'],
      [GrpcStatus.INTERNAL, 'rejected', 'server_error'],
      [GrpcStatus.UNKNOWN, 'rejected', 'server_error'],
      [GrpcStatus.FAILED_PRECONDITION, 'rejected', 'rejected'],
      [GrpcStatus.NOT_FOUND, 'rejected', 'rejected'],
      [GrpcStatus.ALREADY_EXISTS, 'rejected', 'rejected'],
      [GrpcStatus.UNAVAILABLE, 'retryable', 'unavailable', 'server restarting'],
      [GrpcStatus.UNAVAILABLE, 'retryable', 'connection_refused', 'upstream connect error: ECONNREFUSED 10.0.0.7:4317'],
      [GrpcStatus.UNAVAILABLE, 'retryable', 'dns', 'Name resolution failed for target dns:nowhere:4317'],
      [GrpcStatus.UNAVAILABLE, 'retryable', 'tls', 'self-signed certificate in certificate chain'],
      [GrpcStatus.CANCELLED, 'retryable', 'connection_reset'],
    ];
    for (const [code, outcome, reason, details] of table) {
      const r = classifyGrpcStatus({ code, details: details ?? 'x' }, scrub);
      assert.equal(r.outcome, outcome, GrpcStatus[code]);
      assert.equal(r.reason, reason, `${GrpcStatus[code]} ${details ?? ''}`);
      assert.equal(r.status, code);
    }
    // RESOURCE_EXHAUSTED is retried only when the collector says when (RetryInfo), as OTLP says.
    const pushback = classifyGrpcStatus({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: 'quota', retryAfterMs: 2000 }, scrub);
    assert.deepEqual([pushback.outcome, pushback.reason, pushback.retryAfterMs], ['retryable', 'throttled', 2000]);
    // Our own deadline never becomes a status (the transport says 'timeout'); this one is the collector's.
    assert.equal(classifyGrpcStatus({ code: GrpcStatus.DEADLINE_EXCEEDED, details: 'd' }, scrub).reason, 'request_timeout');
    const viaHttp: Array<[number, string]> = [
      [401, 'credentials'],
      [403, 'credentials'],
      [404, 'rejected'],
      [429, 'unavailable'],
      [502, 'unavailable'],
      [503, 'unavailable'],
      [400, 'server_error'],
      [500, 'server_error'],
    ];
    for (const [httpStatus, reason] of viaHttp) {
      assert.equal(classifyGrpcStatus({ code: grpcStatusOfHttp(httpStatus), details: 'h' }, scrub).reason, reason, `HTTP ${httpStatus}`);
    }
  });

  it('socket error codes', () => {
    assert.equal(reasonForErrorCode('ECONNREFUSED'), 'connection_refused');
    assert.equal(reasonForErrorCode('ECONNRESET'), 'connection_reset');
    assert.equal(reasonForErrorCode('EPIPE'), 'connection_reset');
    assert.equal(reasonForErrorCode('ENOTFOUND'), 'dns');
    assert.equal(reasonForErrorCode('EAI_AGAIN'), 'dns');
    assert.equal(reasonForErrorCode('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls');
    assert.equal(reasonForErrorCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls');
    assert.equal(reasonForErrorCode('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls');
    assert.equal(reasonForErrorCode('EHOSTUNREACH'), 'network');
    assert.equal(reasonForErrorCode(undefined), 'network');
  });

  it('scrubs secrets and truncates long messages', () => {
    assert.equal(scrub('bad key s3cr3t for s3cr3t'), 'bad key *** for ***');
    const long = scrub('x'.repeat(5000));
    assert.equal(long.length, MAX_MESSAGE_CHARS);
    assert.ok(long.endsWith('…'));
  });
});

describe('decodeRpcStatus', () => {
  // google.rpc.Status{code: 8, message: "slow", details: [Any{RetryInfo{retry_delay: 2.5s}}]},
  // encoded by hand from the protobuf wire format.
  const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
  const duration = Buffer.from([0x08, 0x02, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01]); // seconds 2, nanos 500000000
  const retryInfo = Buffer.concat([Buffer.from([0x0a, duration.length]), duration]);
  const any = Buffer.concat([Buffer.from([0x0a, typeUrl.length]), typeUrl, Buffer.from([0x12, retryInfo.length]), retryInfo]);
  const status = Buffer.concat([Buffer.from([0x08, 0x08, 0x12, 0x04]), Buffer.from('slow'), Buffer.from([0x1a, any.length]), any]);

  it('reads code, message and RetryInfo', () => {
    assert.deepEqual(decodeRpcStatus(status), { code: 8, message: 'slow', retryAfterMs: 2500 });
  });

  it('returns undefined for truncated or garbage bytes instead of throwing', () => {
    assert.equal(decodeRpcStatus(status.subarray(0, status.length - 3)), undefined);
    assert.equal(decodeRpcStatus(Buffer.from('<html>oops</html>')), undefined);
    assert.deepEqual(decodeRpcStatus(Buffer.alloc(0)), { code: 0, message: '' });
  });
});

describe('decodeExportResponse', () => {
  it('reads partial_success as protobufjs encodes it from the OTLP schema', () => {
    assert.deepEqual(decodeExportResponse(encodeResponse({ rejectedDataPoints: 3, errorMessage: 'too old' })), { rejectedDataPoints: 3, errorMessage: 'too old' });
    // int64 beyond 32 bits, and a message without a count.
    assert.deepEqual(decodeExportResponse(encodeResponse({ rejectedDataPoints: 2 ** 33 + 5, errorMessage: '' })), { rejectedDataPoints: 2 ** 33 + 5, errorMessage: '' });
    assert.deepEqual(decodeExportResponse(encodeResponse({ rejectedDataPoints: 0, errorMessage: 'ü warning' })), { rejectedDataPoints: 0, errorMessage: 'ü warning' });
  });

  it('reads an answer without partial_success as nothing rejected', () => {
    assert.deepEqual(decodeExportResponse(encodeResponse()), { rejectedDataPoints: 0, errorMessage: '' });
    assert.deepEqual(decodeExportResponse(Buffer.alloc(0)), { rejectedDataPoints: 0, errorMessage: '' });
  });

  it('returns undefined for truncated or garbage bytes instead of throwing', () => {
    const answer = encodeResponse({ rejectedDataPoints: 3, errorMessage: 'too old' });
    assert.equal(decodeExportResponse(answer.subarray(0, answer.length - 2)), undefined);
    assert.equal(decodeExportResponse(Buffer.from('<html>oops</html>')), undefined);
  });
});
