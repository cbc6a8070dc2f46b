// Cuts one export into OTLP requests a collector takes: at most `maxPoints` data points and at
// most `maxBytes` bytes of (uncompressed) protobuf each. A collector refuses a bigger request as
// a whole (gRPC's 4 MiB receive limit answers RESOURCE_EXHAUSTED, an HTTP body limit 413), and
// would refuse it again on every retry, so size is decided before sending and again, smaller,
// when a collector with a lower limit refuses one.
import type { MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricsBatch, MetricsEncoder } from './encode';
import type { SendResult } from './types';

export interface RequestLimits {
  /** `exporter.otlp.batch_size`: data points per request. */
  maxPoints: number;
  /** `exporter.otlp.max_request_bytes`: encoded request bytes, before compression. */
  maxBytes: number;
}

/** What one part of an export came to: a request to send, or points that cannot be sent. */
export type RequestPiece =
  | { kind: 'request'; data: MetricsBatch; body: Uint8Array; points: number }
  /** One data point whose request alone is over the byte limit. */
  | { kind: 'too_large'; data: MetricsBatch; bytes: number; maxBytes: number; points: 1 }
  | { kind: 'encode_error'; points: number; error: unknown };

export function countDataPoints(batch: MetricsBatch): number {
  let points = 0;
  for (const metrics of [batch, ...(batch.others ?? [])]) {
    for (const scope of metrics.scopeMetrics) for (const metric of scope.metrics) points += metric.dataPoints.length;
  }
  return points;
}

/**
 * The data points with index in [from, to) (in request order: resource, scope, metric, point),
 * sharing the resource, scope, descriptor and attribute objects, so the encoder's per-object
 * bytes serve every part. Metrics, scopes and resources left without points are left out.
 */
export function slicePoints(batch: MetricsBatch, from: number, to: number): MetricsBatch {
  const resources: ResourceMetrics[] = [];
  let index = 0;
  for (const { resource, scopeMetrics } of [batch, ...(batch.others ?? [])]) {
    const scopes: ScopeMetrics[] = [];
    for (const { scope, metrics } of scopeMetrics) {
      const kept: MetricData[] = [];
      for (const metric of metrics) {
        const count = metric.dataPoints.length;
        const start = Math.max(from - index, 0);
        const end = Math.min(to - index, count);
        index += count;
        if (start >= end) continue;
        kept.push(start === 0 && end === count ? metric : ({ ...metric, dataPoints: metric.dataPoints.slice(start, end) } as MetricData));
      }
      if (kept.length > 0) scopes.push({ scope, metrics: kept });
    }
    if (scopes.length > 0) resources.push({ resource, scopeMetrics: scopes });
  }
  const [first, ...others] = resources;
  return others.length > 0 ? { ...first, others } : first;
}

/** [from, to) of `parts` consecutive slices of `points` that differ by at most one point. */
function evenRanges(points: number, parts: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < parts; i++) ranges.push([Math.floor((points * i) / parts), Math.floor((points * (i + 1)) / parts)]);
  return ranges;
}

// gRPC: grpc-go "received message (after decompression) larger than max", grpc-js "Received
// message larger than max" / "decompresses to a size larger than"; HTTP: "request body too large".
const TOO_LARGE_TEXT = /larger than (the )?max|size larger than|too large|exceeds the (maximum|limit)/i;
const GRPC_RESOURCE_EXHAUSTED = 8;
/** gRPC's default receive limit: the smallest a gRPC collector has unless it was lowered. */
const GRPC_DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

/**
 * The collector refused the request for its size: HTTP 413 (or a 4xx saying so), gRPC
 * RESOURCE_EXHAUSTED saying so. A gRPC server that refuses a request while most of it is still
 * arriving may only reset the stream (grpc-js: ENHANCE_YOUR_CALM, which is RESOURCE_EXHAUSTED
 * without a message); over gRPC's default limit that is taken as the same refusal.
 */
export function refusedAsTooLarge(result: SendResult, protocol: 'grpc' | 'http', bodyBytes: number): boolean {
  if (result.outcome === 'ok') return false;
  if (protocol === 'http') return result.status === 413 || (result.status !== undefined && result.status >= 400 && result.status < 500 && TOO_LARGE_TEXT.test(result.message));
  if (result.status !== GRPC_RESOURCE_EXHAUSTED) return false;
  return TOO_LARGE_TEXT.test(result.message) || (bodyBytes > GRPC_DEFAULT_MAX_RECEIVE_BYTES && /stream reset/i.test(result.message));
}

/**
 * Encodes an export as requests within the limits. The byte limit is lowered when a collector
 * refuses a request for its size, to half that request, so the next exports are cut to fit at
 * once instead of being refused first each time; it stays lowered for the exporter's life (a
 * reload makes a new one).
 */
export class RequestSplitter {
  private maxBytes: number;

  constructor(private readonly encoder: MetricsEncoder, private readonly limits: RequestLimits) {
    this.maxBytes = limits.maxBytes;
  }

  /** The byte limit in force: the configured one, or less after a refusal. */
  get byteLimit(): number {
    return this.maxBytes;
  }

  /** Pieces of `batch` in order, encoded one at a time as the caller asks for them. */
  *pieces(batch: MetricsBatch, points: number): Generator<RequestPiece> {
    if (points <= this.limits.maxPoints) {
      yield* this.fit(batch, points);
      return;
    }
    for (let from = 0; from < points; from += this.limits.maxPoints) {
      const to = Math.min(from + this.limits.maxPoints, points);
      yield* this.fit(slicePoints(batch, from, to), to - from);
    }
  }

  /** A request of two or more points the collector refused as too large, in halves. */
  *refused(piece: Extract<RequestPiece, { kind: 'request' }>): Generator<RequestPiece> {
    this.maxBytes = Math.min(this.maxBytes, Math.max(1, Math.floor(piece.body.length / 2)));
    for (const [from, to] of evenRanges(piece.points, 2)) yield* this.fit(slicePoints(piece.data, from, to), to - from);
  }

  private *fit(data: MetricsBatch, points: number): Generator<RequestPiece> {
    let body: Uint8Array | undefined;
    try {
      body = this.encoder.encode(data);
    } catch (error) {
      yield { kind: 'encode_error', points, error };
      return;
    }
    if (body === undefined) {
      yield { kind: 'encode_error', points, error: new Error('the OTLP serializer returned nothing') };
      return;
    }
    if (body.length <= this.maxBytes) {
      yield { kind: 'request', data, body, points };
      return;
    }
    if (points === 1) {
      yield { kind: 'too_large', data, bytes: body.length, maxBytes: this.maxBytes, points: 1 };
      return;
    }
    // As many parts as the size says, at least two; parts that still do not fit are cut again.
    const parts = Math.min(points, Math.max(2, Math.ceil(body.length / this.maxBytes)));
    for (const [from, to] of evenRanges(points, parts)) yield* this.fit(slicePoints(data, from, to), to - from);
  }
}
