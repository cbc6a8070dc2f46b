// The test receiver itself, checked against encoders it does not share code with: the official
// OpenTelemetry protobuf serializer and the official gRPC exporter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { collectSample } from './fixtures';

// The exporter's CompressionAlgorithm value, spelled here so the test needs no other package.
const GZIP = 'gzip' as NonNullable<ConstructorParameters<typeof GrpcMetricExporter>[0]>['compression'];

function post(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('OTLP test receiver', () => {
  let receiver: OtlpReceiver;
  let sample: ResourceMetrics;
  let encoded: Buffer;

  before(async () => {
    receiver = await startOtlpReceiver();
    sample = await collectSample();
    encoded = Buffer.from(ProtobufMetricsSerializer.serializeRequest(sample)!);
  });
  after(() => receiver.close());

  it('decodes an HTTP protobuf request, gzip or not, on /v1 and /v2', async () => {
    receiver.reset();
    const plain = await post(`${receiver.httpUrl}/v1/metrics`, encoded, { 'content-type': 'application/x-protobuf' });
    const gz = await post(`${receiver.httpUrl}/v2/metrics`, gzipSync(encoded), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    assert.equal(plain.status, 200);
    assert.equal(gz.status, 200);
    assert.deepEqual(receiver.requests.map((r) => r.path), ['/v1/metrics', '/v2/metrics']);
    assert.equal(receiver.requests[1].headers['content-encoding'], 'gzip');
    assert.deepEqual(receiver.metricNames(), ['test.latency', 'test.requests', 'test.temperature']);

    const points = receiver.points().filter((p) => receiver.requests[0].path === '/v1/metrics' && p.name.startsWith('test.'));
    const counter = points.find((p) => p.name === 'test.requests')!;
    assert.equal(counter.kind, 'sum');
    assert.equal(counter.monotonic, true);
    assert.equal(counter.temporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
    assert.equal(counter.value, 7);
    assert.equal(counter.isInt, true);
    assert.equal(counter.unit, '{request}');
    assert.deepEqual(counter.attributes, { route: '/a' });
    assert.equal(counter.resource['service.name'], 'exporter-test');
    assert.equal(counter.scope, 'test-scope');
    // Times are nanoseconds since the epoch, equal to what the SDK recorded.
    const sdkPoint = sample.scopeMetrics[0].metrics.find((m) => m.descriptor.name === 'test.requests')!.dataPoints[0];
    assert.equal(counter.timeUnixNano, BigInt(sdkPoint.endTime[0]) * 1_000_000_000n + BigInt(sdkPoint.endTime[1]));
    assert.equal(counter.startTimeUnixNano, BigInt(sdkPoint.startTime[0]) * 1_000_000_000n + BigInt(sdkPoint.startTime[1]));

    const temps = points.filter((p) => p.name === 'test.temperature').map((p) => [p.attributes.sensor, p.value, p.kind]);
    assert.deepEqual(temps.slice(0, 2), [['a', 21.5, 'gauge'], ['b', -3.25, 'gauge']]);
    const hist = points.find((p) => p.name === 'test.latency')!;
    assert.equal(hist.kind, 'histogram');
    assert.equal(hist.histogram?.count, 1);
    assert.equal(hist.histogram?.sum, 0.2);
    assert.equal(hist.histogram?.bucketCounts.reduce((a, b) => a + b, 0), 1);
  });

  it('answers errors with a google.rpc.Status body and Retry-After, counts only accepted data', async () => {
    receiver.reset();
    receiver.respondWith({ httpStatus: 429, retryAfterSeconds: 7, message: 'slow down', times: 1 });
    const first = await post(`${receiver.httpUrl}/v1/metrics`, encoded, { 'content-type': 'application/x-protobuf' });
    const second = await post(`${receiver.httpUrl}/v1/metrics`, encoded, { 'content-type': 'application/x-protobuf' });
    assert.equal(first.status, 429);
    assert.equal(first.headers['retry-after'], '7');
    assert.ok(first.body.includes(Buffer.from('slow down')));
    assert.equal(second.status, 200, 'times: 1 answers one request only');
    assert.deepEqual(receiver.requests.map((r) => r.accepted), [false, true]);
    assert.equal(receiver.accepted().length, 1);
  });

  it('counts a malformed body and answers 400 without crashing', async () => {
    receiver.reset();
    const res = await post(`${receiver.httpUrl}/v1/metrics`, Buffer.from([0xff, 0xff, 0xff, 0x01]), { 'content-type': 'application/x-protobuf' });
    assert.equal(res.status, 400);
    assert.equal(receiver.malformed.length, 1);
    const wrongPath = await post(`${receiver.httpUrl}/v1/traces`, encoded, { 'content-type': 'application/x-protobuf' });
    assert.equal(wrongPath.status, 404);
    assert.equal(receiver.requests.length, 0);
  });

  it('receives the official gRPC exporter, gzip-compressed, with its metadata', async () => {
    receiver.reset();
    const metadata = new Metadata();
    metadata.set('x-test', 'yes');
    const exporter = new GrpcMetricExporter({ url: `http://${receiver.grpcAddress}`, compression: GZIP, metadata });
    const result = await new Promise<{ code: ExportResultCode; error?: Error }>((resolve) => exporter.export(sample, resolve));
    await exporter.shutdown();
    assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
    assert.equal(receiver.requests.length, 1);
    const req = receiver.requests[0];
    assert.equal(req.protocol, 'grpc');
    assert.equal(req.path, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
    assert.equal(req.headers['grpc-encoding'], 'gzip');
    assert.equal(req.headers['x-test'], 'yes');
    assert.deepEqual(receiver.metricNames(), ['test.latency', 'test.requests', 'test.temperature']);
  });

  it('goes down and comes back on the same ports', async () => {
    receiver.reset();
    const { httpPort, grpcPort } = receiver;
    await receiver.down();
    assert.equal(receiver.isUp, false);
    await assert.rejects(post(`${receiver.httpUrl}/v1/metrics`, encoded, { 'content-type': 'application/x-protobuf' }), /ECONNREFUSED/);
    await receiver.up();
    assert.equal(receiver.httpPort, httpPort);
    assert.equal(receiver.grpcPort, grpcPort);
    const res = await post(`${receiver.httpUrl}/v1/metrics`, encoded, { 'content-type': 'application/x-protobuf' });
    assert.equal(res.status, 200);
    const waited = receiver.waitFor((r) => r.accepted().length >= 2, 5000);
    await post(`${receiver.httpUrl}/v2/metrics`, encoded, { 'content-type': 'application/x-protobuf' });
    await waited;
    await assert.rejects(receiver.waitFor(() => false, 50), /condition not met within 50 ms/);
  });
});
