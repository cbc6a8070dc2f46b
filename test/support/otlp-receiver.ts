// A real OTLP metrics (and logs) receiver for tests: gRPC (MetricsService/Export,
// LogsService/Export) and HTTP (POST /v1/metrics, /v2/metrics, /v1/logs, /v2/logs) on 127.0.0.1, decoding protobuf with its own copy of the OTLP schema
// (test/support/otlp-proto), so what the agent sends is checked independently of the code that
// encoded it. Failure modes (status codes, hangs, a listener that goes away and comes back on the
// same port) are switched at runtime so outages can be simulated against a running agent.
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, inflateSync } from 'node:zlib';
import * as protobuf from 'protobufjs';
import { REPO_ROOT } from './paths';

const PROTO_DIR = join(REPO_ROOT, 'test', 'support', 'otlp-proto');
export const GRPC_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
export const GRPC_LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const HTTP_PATHS = new Set(['/v1/metrics', '/v2/metrics']);
const HTTP_LOGS_PATHS = new Set(['/v1/logs', '/v2/logs']);
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Decoded shapes (protobufjs `toObject` with camelCase names, int64/fixed64 as decimal strings).

export interface DecodedAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values: DecodedAnyValue[] };
  kvlistValue?: { values: DecodedKeyValue[] };
  /** base64 */
  bytesValue?: string;
}
export interface DecodedKeyValue {
  key: string;
  value?: DecodedAnyValue;
}
export interface DecodedNumberDataPoint {
  attributes: DecodedKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asDouble?: number;
  asInt?: string;
  flags: number;
}
export interface DecodedHistogramDataPoint {
  attributes: DecodedKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: string;
  sum?: number;
  bucketCounts: string[];
  explicitBounds: number[];
  min?: number;
  max?: number;
}
export interface DecodedMetric {
  name: string;
  description: string;
  unit: string;
  gauge?: { dataPoints: DecodedNumberDataPoint[] };
  sum?: { dataPoints: DecodedNumberDataPoint[]; aggregationTemporality: string; isMonotonic: boolean };
  histogram?: { dataPoints: DecodedHistogramDataPoint[]; aggregationTemporality: string };
  exponentialHistogram?: { dataPoints: unknown[]; aggregationTemporality: string };
  summary?: { dataPoints: unknown[] };
}
export interface DecodedScopeMetrics {
  scope?: { name: string; version: string; attributes: DecodedKeyValue[] };
  metrics: DecodedMetric[];
  schemaUrl: string;
}
export interface DecodedResourceMetrics {
  resource?: { attributes: DecodedKeyValue[] };
  scopeMetrics: DecodedScopeMetrics[];
  schemaUrl: string;
}
export interface ExportRequest {
  resourceMetrics: DecodedResourceMetrics[];
}

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

/** One data point, flattened out of the request with its metric's descriptor and resource. */
export interface ReceivedPoint {
  name: string;
  unit: string;
  description: string;
  kind: 'sum' | 'gauge' | 'histogram';
  /** Sums only. */
  monotonic?: boolean;
  /** Sums and histograms: AGGREGATION_TEMPORALITY_CUMULATIVE or _DELTA. */
  temporality?: string;
  attributes: Attributes;
  resource: Attributes;
  scope: string;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Sum and gauge: the point's value (as_int converted to number); histogram: its sum (0 if absent). */
  value: number;
  /** Whether a sum or gauge point carried as_int rather than as_double. */
  isInt?: boolean;
  histogram?: { count: number; sum?: number; bucketCounts: number[]; explicitBounds: number[]; min?: number; max?: number };
}

/** One log record of a logs request, with its resource. */
export interface ReceivedLogRecord {
  body: AttributeValue;
  severityText: string;
  attributes: Attributes;
  resource: Attributes;
}

/** One request the receiver decoded, whatever it answered. */
export interface ReceivedRequest {
  protocol: 'grpc' | 'http';
  /** Which service it was sent to. A logs request has no resourceMetrics in `request`. */
  signal: 'metrics' | 'logs';
  /** A logs request's records. */
  logs?: ReceivedLogRecord[];
  /** HTTP path, or the gRPC method path. */
  path: string;
  /** Lowercased names. For gRPC the metadata plus `grpc-encoding` as the client sent it. */
  headers: Record<string, string>;
  request: ExportRequest;
  /** Bytes on the wire (HTTP: before Content-Encoding was undone; gRPC: the decompressed message). */
  bodyBytes: number;
  /** True when the receiver answered success (full or partial); false for errors and hangs. */
  accepted: boolean;
  receivedAt: number;
}

/** A request the receiver could not decode; it was answered 400 / INVALID_ARGUMENT. */
export interface MalformedRequest {
  protocol: 'grpc' | 'http';
  path: string;
  error: string;
}

/**
 * How the receiver answers from now on. Protocol-neutral: give an HTTP status or a gRPC code and
 * the other protocol gets the matching one (see HTTP_TO_GRPC / GRPC_TO_HTTP), so one test can run
 * over both protocols.
 */
export interface ReceiverResponse {
  httpStatus?: number;
  grpcCode?: grpc.status;
  /** HTTP Retry-After in seconds; on gRPC a google.rpc.RetryInfo in grpc-status-details-bin. */
  retryAfterSeconds?: number;
  /** A raw HTTP Retry-After value (e.g. an HTTP date); HTTP only. */
  retryAfter?: string;
  /** The error text (google.rpc.Status message / grpc-message). */
  message?: string;
  /** Answer success with an ExportMetricsPartialSuccess. */
  partialSuccess?: { rejectedDataPoints: number; errorMessage: string };
  /** Answer this way for the next N requests only, then accept again. Default: until changed. */
  times?: number;
}

export interface OtlpReceiverTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA that signs client certificates; required with requireClientCert. */
  ca?: string | Buffer;
  requireClientCert?: boolean;
}

export interface OtlpReceiverOptions {
  tls?: OtlpReceiverTls;
  /**
   * Largest request (decompressed protobuf) taken, as a collector's limit: gRPC's
   * max_receive_message_length (grpc-js answers RESOURCE_EXHAUSTED), over HTTP 413. Default 256 MiB.
   */
  maxMessageBytes?: number;
}

export interface OtlpReceiver {
  /** `127.0.0.1:port` for a gRPC exporter. */
  readonly grpcAddress: string;
  readonly grpcPort: number;
  /** `http(s)://127.0.0.1:port`, without a path. */
  readonly httpUrl: string;
  readonly httpPort: number;
  /** Every decoded request, oldest first (including the ones answered with an error). */
  readonly requests: readonly ReceivedRequest[];
  readonly malformed: readonly MalformedRequest[];
  /** Requests answered with success. */
  accepted(): ReceivedRequest[];
  /** Distinct metric names in accepted requests, sorted. */
  metricNames(): string[];
  /** Every data point of accepted requests, flattened, in arrival order. */
  points(): ReceivedPoint[];
  /** Every log record of accepted logs requests, in arrival order. */
  logRecords(): ReceivedLogRecord[];
  /** Resolves once predicate(receiver) holds; rejects after timeoutMs with what was received. */
  waitFor(predicate: (receiver: OtlpReceiver) => boolean, timeoutMs?: number): Promise<void>;
  /** Forgets recorded requests (not the response mode). */
  reset(): void;
  respondWith(response: ReceiverResponse): void;
  /** Accept requests and never answer them (the client's timeout fires). */
  hang(): void;
  /** Back to answering success. */
  accept(): void;
  /** Closes both listeners and every connection; ports stay reserved for up(). */
  down(): Promise<void>;
  /** Listens again on the same ports. */
  up(): Promise<void>;
  readonly isUp: boolean;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Status mapping between the two protocols, following what OTLP collectors do.

const HTTP_TO_GRPC: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.UNIMPLEMENTED,
  408: grpc.status.DEADLINE_EXCEEDED,
  409: grpc.status.ABORTED,
  413: grpc.status.RESOURCE_EXHAUSTED,
  429: grpc.status.RESOURCE_EXHAUSTED,
  500: grpc.status.INTERNAL,
  501: grpc.status.UNIMPLEMENTED,
  502: grpc.status.UNAVAILABLE,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.UNAVAILABLE,
};

const GRPC_TO_HTTP: Partial<Record<grpc.status, number>> = {
  [grpc.status.OK]: 200,
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.FAILED_PRECONDITION]: 400,
  [grpc.status.OUT_OF_RANGE]: 400,
  [grpc.status.UNAUTHENTICATED]: 401,
  [grpc.status.PERMISSION_DENIED]: 403,
  [grpc.status.NOT_FOUND]: 404,
  [grpc.status.DEADLINE_EXCEEDED]: 408,
  [grpc.status.ABORTED]: 409,
  [grpc.status.ALREADY_EXISTS]: 409,
  [grpc.status.RESOURCE_EXHAUSTED]: 429,
  [grpc.status.UNIMPLEMENTED]: 501,
  [grpc.status.UNAVAILABLE]: 503,
};

function grpcCodeOf(r: ReceiverResponse): grpc.status {
  if (r.grpcCode !== undefined) return r.grpcCode;
  const s = r.httpStatus ?? 200;
  if (s < 400) return grpc.status.OK;
  return HTTP_TO_GRPC[s] ?? (s >= 500 ? grpc.status.INTERNAL : grpc.status.INVALID_ARGUMENT);
}

function httpStatusOf(r: ReceiverResponse): number {
  if (r.httpStatus !== undefined) return r.httpStatus;
  if (r.grpcCode === undefined) return 200;
  return GRPC_TO_HTTP[r.grpcCode] ?? 500;
}

// ---------------------------------------------------------------------------------------------
// Protobuf schema, loaded once.

interface Schema {
  request: protobuf.Type;
  logsRequest: protobuf.Type;
  response: protobuf.Type;
  status: protobuf.Type;
  retryInfo: protobuf.Type;
}

let schema: Schema | undefined;

function loadSchema(): Schema {
  if (schema) return schema;
  const root = new protobuf.Root();
  root.loadSync(['metrics_service.proto', 'logs_service.proto', 'status.proto'].map((f) => join(PROTO_DIR, f)));
  root.resolveAll();
  schema = {
    request: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
    logsRequest: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
    status: root.lookupType('google.rpc.Status'),
    retryInfo: root.lookupType('google.rpc.RetryInfo'),
  };
  return schema;
}

/** Decodes an ExportMetricsServiceRequest with the receiver's own schema. Exported for tests. */
export function decodeExportRequest(bytes: Uint8Array): ExportRequest {
  const s = loadSchema();
  const message = s.request.decode(bytes);
  // defaults: true fills absent proto3 scalars (unit '', flags 0) but leaves oneof members absent.
  return s.request.toObject(message, { longs: String, enums: String, bytes: String, defaults: true, arrays: true }) as ExportRequest;
}

interface DecodedLogsRequest {
  resourceLogs: Array<{ resource?: { attributes: DecodedKeyValue[] }; scopeLogs: Array<{ logRecords: Array<{ body?: DecodedAnyValue; severityText: string; attributes: DecodedKeyValue[] }> }> }>;
}

/** Decodes an ExportLogsServiceRequest with the receiver's own schema into its records. */
export function decodeLogsRequest(bytes: Uint8Array): ReceivedLogRecord[] {
  const s = loadSchema();
  const request = s.logsRequest.toObject(s.logsRequest.decode(bytes), { longs: String, enums: String, bytes: String, defaults: true, arrays: true }) as DecodedLogsRequest;
  return request.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => ({
    body: anyValue(r.body),
    severityText: r.severityText,
    attributes: attributesOf(r.attributes),
    resource: attributesOf(rl.resource?.attributes),
  }))));
}

/** What one request decodes to: a metrics request, or a logs request's records. */
function decodeFor(signal: 'metrics' | 'logs', bytes: Uint8Array): Pick<ReceivedRequest, 'request' | 'logs'> {
  if (signal === 'metrics') return { request: decodeExportRequest(bytes) };
  return { request: { resourceMetrics: [] }, logs: decodeLogsRequest(bytes) };
}

export function encodeResponse(partial?: ReceiverResponse['partialSuccess']): Uint8Array {
  const s = loadSchema();
  const body = partial ? { partialSuccess: { rejectedDataPoints: partial.rejectedDataPoints, errorMessage: partial.errorMessage } } : {};
  return s.response.encode(s.response.fromObject(body)).finish();
}

function encodeStatus(code: number, message: string, retryAfterSeconds?: number): Uint8Array {
  const s = loadSchema();
  const details = [];
  if (retryAfterSeconds !== undefined) {
    const whole = Math.floor(retryAfterSeconds);
    const retry = s.retryInfo.encode(s.retryInfo.fromObject({ retryDelay: { seconds: whole, nanos: Math.round((retryAfterSeconds - whole) * 1e9) } })).finish();
    details.push({ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: retry });
  }
  return s.status.encode(s.status.fromObject({ code, message, details })).finish();
}

// ---------------------------------------------------------------------------------------------
// Flattening.

function anyValue(v: DecodedAnyValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return v.arrayValue.values.map(anyValue);
  if (v.kvlistValue) return attributesOf(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

export function attributesOf(kvs: DecodedKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

function flattenPoints(request: ExportRequest): ReceivedPoint[] {
  const out: ReceivedPoint[] = [];
  for (const rm of request.resourceMetrics) {
    const resource = attributesOf(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics) {
      const scope = sm.scope?.name ?? '';
      for (const m of sm.metrics) {
        const base = { name: m.name, unit: m.unit, description: m.description, resource, scope };
        const numberPoint = (p: DecodedNumberDataPoint) => ({
          attributes: attributesOf(p.attributes),
          startTimeUnixNano: BigInt(p.startTimeUnixNano),
          timeUnixNano: BigInt(p.timeUnixNano),
          value: p.asInt !== undefined ? Number(p.asInt) : (p.asDouble ?? 0),
          isInt: p.asInt !== undefined,
        });
        if (m.sum) {
          for (const p of m.sum.dataPoints) {
            out.push({ ...base, kind: 'sum', monotonic: m.sum.isMonotonic, temporality: m.sum.aggregationTemporality, ...numberPoint(p) });
          }
        } else if (m.gauge) {
          for (const p of m.gauge.dataPoints) out.push({ ...base, kind: 'gauge', ...numberPoint(p) });
        } else if (m.histogram) {
          for (const p of m.histogram.dataPoints) {
            out.push({
              ...base,
              kind: 'histogram',
              temporality: m.histogram.aggregationTemporality,
              attributes: attributesOf(p.attributes),
              startTimeUnixNano: BigInt(p.startTimeUnixNano),
              timeUnixNano: BigInt(p.timeUnixNano),
              value: p.sum ?? 0,
              histogram: {
                count: Number(p.count),
                sum: p.sum,
                bucketCounts: p.bucketCounts.map(Number),
                explicitBounds: p.explicitBounds,
                min: p.min,
                max: p.max,
              },
            });
          }
        }
      }
    }
  }
  return out;
}

function headerRecord(entries: Iterable<[string, unknown]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    out[name.toLowerCase()] = values.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v))).join(', ');
  }
  return out;
}

function decompress(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? 'identity').toLowerCase()) {
    case 'identity':
    case '':
      return body;
    case 'gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    default:
      throw new Error(`unsupported Content-Encoding ${encoding}`);
  }
}

// ---------------------------------------------------------------------------------------------

type Mode = { kind: 'accept' } | { kind: 'respond'; response: ReceiverResponse; remaining: number } | { kind: 'hang' };

/** The answer a request gets: a response, or undefined for "hang". */
type Answer = ReceiverResponse | undefined;

class Receiver implements OtlpReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly malformed: MalformedRequest[] = [];
  grpcPort = 0;
  httpPort = 0;
  isUp = false;

  private mode: Mode = { kind: 'accept' };
  private grpcServer?: grpc.Server;
  private httpServer?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();
  private readonly flattened = new WeakMap<ReceivedRequest, ReceivedPoint[]>();

  constructor(
    private readonly tls: OtlpReceiverTls | undefined,
    private readonly maxMessageBytes = MAX_MESSAGE_BYTES,
  ) {}

  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get httpUrl(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.httpPort}`;
  }

  accepted(): ReceivedRequest[] {
    return this.requests.filter((r) => r.accepted);
  }

  metricNames(): string[] {
    const names = new Set<string>();
    for (const r of this.accepted()) {
      for (const rm of r.request.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) names.add(m.name);
    }
    return [...names].sort();
  }

  points(): ReceivedPoint[] {
    return this.accepted().flatMap((r) => this.pointsOf(r));
  }

  logRecords(): ReceivedLogRecord[] {
    return this.accepted().flatMap((r) => r.logs ?? []);
  }

  /** Flattened once per request: waitFor predicates call points() after every request. */
  private pointsOf(request: ReceivedRequest): ReceivedPoint[] {
    let points = this.flattened.get(request);
    if (!points) {
      points = flattenPoints(request.request);
      this.flattened.set(request, points);
    }
    return points;
  }

  waitFor(predicate: (receiver: OtlpReceiver) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate(this)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`OTLP receiver: condition not met within ${timeoutMs} ms (${this.requests.length} requests, ${this.accepted().length} accepted, metrics: ${this.metricNames().join(', ') || 'none'})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  reset(): void {
    this.requests.length = 0;
    this.malformed.length = 0;
  }

  respondWith(response: ReceiverResponse): void {
    this.mode = { kind: 'respond', response, remaining: response.times ?? Infinity };
  }

  hang(): void {
    this.mode = { kind: 'hang' };
  }

  accept(): void {
    this.mode = { kind: 'accept' };
  }

  async start(): Promise<void> {
    await this.listenHttp(0);
    await this.listenGrpc(0);
    this.isUp = true;
  }

  async down(): Promise<void> {
    if (!this.isUp) return;
    this.isUp = false;
    const http = this.httpServer;
    const grpcServer = this.grpcServer;
    this.httpServer = undefined;
    this.grpcServer = undefined;
    // forceShutdown cancels every open call, hung ones included.
    grpcServer?.forceShutdown();
    if (http) {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      await closed;
    }
  }

  async up(): Promise<void> {
    if (this.isUp) return;
    await this.listenHttp(this.httpPort);
    await this.listenGrpc(this.grpcPort);
    this.isUp = true;
  }

  async close(): Promise<void> {
    await this.down();
  }

  /** Decides the answer for one request and consumes a `times` budget. */
  private nextAnswer(): Answer {
    const mode = this.mode;
    if (mode.kind === 'hang') return undefined;
    if (mode.kind === 'accept') return {};
    mode.remaining -= 1;
    if (mode.remaining <= 0) this.mode = { kind: 'accept' };
    return mode.response;
  }

  private record(entry: Omit<ReceivedRequest, 'receivedAt'>): void {
    this.requests.push({ ...entry, receivedAt: Date.now() });
    for (const w of [...this.waiters]) w();
  }

  // --- HTTP ------------------------------------------------------------------------------------

  private listenHttp(port: number): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.onHttpRequest(req, res);
    const server = this.tls
      ? https.createServer({ cert: this.tls.cert, key: this.tls.key, ca: this.tls.ca, requestCert: this.tls.requireClientCert ?? false, rejectUnauthorized: this.tls.requireClientCert ?? false, minVersion: 'TLSv1.2' }, handler)
      : http.createServer(handler);
    server.keepAliveTimeout = 30_000;
    // Raw TCP sockets, so that down() also cuts connections still in the TLS handshake.
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // A client that fails the TLS handshake is the client's problem, not a receiver crash.
    server.on('tlsClientError', () => undefined);
    server.on('clientError', (_err, socket) => socket.destroy());
    this.httpServer = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.httpPort = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private onHttpRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    const signal = HTTP_LOGS_PATHS.has(path) ? 'logs' : 'metrics';
    if (req.method !== 'POST' || !(HTTP_PATHS.has(path) || HTTP_LOGS_PATHS.has(path))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no OTLP metrics endpoint at ${req.method} ${path}`);
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const headers = headerRecord(Object.entries(req.headers));
      let decoded: Pick<ReceivedRequest, 'request' | 'logs'>;
      try {
        const contentType = headers['content-type'] ?? '';
        if (!contentType.startsWith('application/x-protobuf')) throw new Error(`unsupported Content-Type "${contentType}", expected application/x-protobuf`);
        const body = decompress(raw, headers['content-encoding']);
        if (body.length > this.maxMessageBytes) {
          this.sendHttpError(res, 413, grpc.status.RESOURCE_EXHAUSTED, `request body too large (${body.length} > ${this.maxMessageBytes} bytes)`);
          return;
        }
        decoded = decodeFor(signal, body);
      } catch (err) {
        this.malformed.push({ protocol: 'http', path, error: (err as Error).message });
        this.sendHttpError(res, 400, grpc.status.INVALID_ARGUMENT, (err as Error).message);
        return;
      }
      const answer = this.nextAnswer();
      const status = answer ? httpStatusOf(answer) : 0;
      this.record({ protocol: 'http', signal, path, headers, ...decoded, bodyBytes: raw.length, accepted: answer !== undefined && status < 300 });
      if (!answer) return; // hang: the socket is destroyed by down()/close()
      if (status < 300) {
        res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end(encodeResponse(answer.partialSuccess));
        return;
      }
      const extra: Record<string, string> = {};
      if (answer.retryAfter !== undefined) extra['retry-after'] = answer.retryAfter;
      else if (answer.retryAfterSeconds !== undefined) extra['retry-after'] = String(answer.retryAfterSeconds);
      this.sendHttpError(res, status, grpcCodeOf(answer), answer.message ?? http.STATUS_CODES[status] ?? 'error', extra);
    });
  }

  private sendHttpError(res: http.ServerResponse, status: number, code: number, message: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/x-protobuf', ...extra }).end(encodeStatus(code, message));
  }

  // --- gRPC ------------------------------------------------------------------------------------

  private async listenGrpc(port: number): Promise<void> {
    // grpc-js strips grpc-encoding from the metadata the handler sees; an interceptor reads the
    // call's negotiated encoding so tests can assert the client compressed.
    const encodingInterceptor: grpc.ServerInterceptor = (_method, call) => {
      const encoding = (call as unknown as { incomingEncoding?: string }).incomingEncoding;
      return new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, mdNext) => {
              if (encoding !== undefined) metadata.set('grpc-encoding', encoding);
              mdNext(metadata);
            },
          }),
      });
    };
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.maxMessageBytes,
      interceptors: [encodingInterceptor],
    });
    for (const [signal, path] of [['metrics', GRPC_EXPORT_PATH], ['logs', GRPC_LOGS_EXPORT_PATH]] as const) {
      server.addService(
        {
          Export: {
            path,
            requestStream: false,
            responseStream: false,
            requestSerialize: (b: Buffer) => b,
            requestDeserialize: (b: Buffer) => b,
            responseSerialize: (b: Buffer) => b,
            responseDeserialize: (b: Buffer) => b,
          },
        },
        { Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => this.onGrpcExport(signal, path, call, callback) },
      );
    }
    const credentials = this.tls
      ? grpc.ServerCredentials.createSsl(
          this.tls.ca ? Buffer.from(this.tls.ca) : null,
          [{ cert_chain: Buffer.from(this.tls.cert), private_key: Buffer.from(this.tls.key) }],
          this.tls.requireClientCert ?? false,
        )
      : grpc.ServerCredentials.createInsecure();
    // Rebinding the same port right after a shutdown can race the old socket's close.
    for (let attempt = 0; ; attempt++) {
      try {
        this.grpcPort = await new Promise<number>((resolve, reject) =>
          server.bindAsync(`127.0.0.1:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
        );
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.grpcServer = server;
  }

  private onGrpcExport(signal: 'metrics' | 'logs', path: string, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    const headers = headerRecord(Object.entries(call.metadata.getMap()));
    let decoded: Pick<ReceivedRequest, 'request' | 'logs'>;
    try {
      decoded = decodeFor(signal, call.request);
    } catch (err) {
      this.malformed.push({ protocol: 'grpc', path, error: (err as Error).message });
      callback({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
      return;
    }
    const answer = this.nextAnswer();
    const code = answer ? grpcCodeOf(answer) : grpc.status.OK;
    this.record({ protocol: 'grpc', signal, path, headers, ...decoded, bodyBytes: call.request.length, accepted: answer !== undefined && code === grpc.status.OK });
    if (!answer) return; // hang: never call back; down()/close() cancel the call
    if (code === grpc.status.OK) {
      callback(null, Buffer.from(encodeResponse(answer.partialSuccess)));
      return;
    }
    const metadata = new grpc.Metadata();
    if (answer.retryAfterSeconds !== undefined) {
      metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus(code, answer.message ?? '', answer.retryAfterSeconds)));
    }
    callback({ code, details: answer.message ?? grpc.status[code], metadata });
  }
}

/** Starts a receiver on ephemeral loopback ports. Call close() when done. */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const receiver = new Receiver(options.tls, options.maxMessageBytes);
  await receiver.start();
  return receiver;
}
