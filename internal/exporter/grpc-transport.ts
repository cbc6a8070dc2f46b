// OTLP/gRPC: unary MetricsService/Export calls over one long-lived HTTP/2 session, framed as
// grpc/doc/PROTOCOL-HTTP2.md says. The request is already serialized, so a call is one
// length-prefixed message out and a status back; node:http2 does that without a gRPC library's
// channel machinery (name resolution, load balancing, retries), which cost 3 MB of resident memory
// and a tenth of the per-cycle CPU here.
import * as http2 from 'node:http2';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Compression } from '../config/types';
import { acceptedResult, classifyGrpcStatus, classifySocketError, createScrubber, type FailureResult, type Scrubber } from './classify';
import { GrpcStatus, grpcStatusOfHttp } from './grpc-status';
import { checkHeaders, HeaderError, secretHeaderValues } from './headers';
import { decodeRpcStatus } from './rpc-status';
import { hostPort, openConnection, type Destination } from './connect';
import type { TlsMaterial, TlsSource } from './tls';
import type { OtlpTransport, SendResult } from './types';
import { deadlineResult, GZIP_OPTIONS, MAX_RESPONSE_BYTES } from './wire';

export const GRPC_EXPORT_METHOD = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
export const GRPC_LOGS_EXPORT_METHOD = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

// HTTP/2 allows none of these in a request (RFC 9113 §8.2.2), and gRPC owns the rest.
const RESERVED_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'content-type', 'content-length']);

export interface KeepaliveOptions {
  /**
   * After this long without activity a session is pinged while a call is in flight, and closed
   * when none is; 0 turns both off.
   */
  intervalMs: number;
  /** A ping unanswered this long retires the session. */
  timeoutMs: number;
}

export interface GrpcTransportOptions {
  /** `host:port`, or `unix:/path` with `destination` saying so. */
  address: string;
  /** Where to connect; by default the `host:port` of `address`. */
  destination?: Destination;
  /** TLS material; undefined for a plaintext connection. */
  tls?: TlsSource;
  headers: Record<string, string>;
  compression: Compression;
  keepalive?: KeepaliveOptions;
  /** HTTP proxy to tunnel through (CONNECT). */
  proxy?: URL;
  /** Name lookup, resolved anew for each session (dns.lookup by default). */
  lookup?: LookupFunction;
  /** The service method; MetricsService/Export unless given. */
  method?: string;
}

function destinationOf(address: string): Destination {
  const split = address.lastIndexOf(':');
  return { kind: 'tcp', host: address.slice(0, split).replace(/^\[|\]$/g, ''), port: Number(address.slice(split + 1)) };
}

/** gRPC metadata: lowercase names; no `-bin` (binary) values, no HTTP/2 connection headers. */
function buildMetadata(headers: Record<string, string>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (!/^[0-9a-z_.-]+$/.test(key) || key.endsWith('-bin') || key.startsWith('grpc-') || RESERVED_HEADERS.has(key)) {
      throw new HeaderError(name, 'not a valid gRPC metadata key');
    }
    metadata[key] = value;
  }
  return metadata;
}

/** The 5-byte gRPC message prefix (compressed flag, big-endian length), then the message. */
function frameMessage(message: Uint8Array, compressed: boolean): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.byteLength);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  return frame;
}

/** The first message of an answer, inflated when flagged; empty when there is none. */
function unframeMessage(body: Buffer, encoding: string | undefined): Buffer {
  if (body.length < 5) return Buffer.alloc(0);
  const message = body.subarray(5, 5 + body.readUInt32BE(1));
  return body[0] === 1 && encoding === 'gzip' ? gunzipSync(message) : message;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** grpc-message is percent-encoded (PROTOCOL-HTTP2.md); a broken escape is kept as sent. */
function decodeGrpcMessage(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

interface Attempt {
  result: SendResult;
  /** The session was gone before the collector saw the call: safe to send again at once. */
  staleSession?: boolean;
}

export class GrpcTransport implements OtlpTransport {
  readonly protocol = 'grpc' as const;
  readonly target: string;
  private readonly authority: string;
  private readonly destination: Destination;
  private readonly requestHeaders: http2.OutgoingHttpHeaders;
  private readonly compressed: boolean;
  private readonly scrub: Scrubber;
  private session?: http2.ClientHttp2Session;
  /** The TLS material the open session was made with. */
  private sessionTls?: TlsMaterial;
  private opening?: Promise<http2.ClientHttp2Session>;
  private lastActivity = 0;
  private callsInFlight = 0;
  private closed = false;
  /** Sessions retired because a keepalive ping went unanswered. */
  keepaliveFailures = 0;
  /** Sessions closed because no call used them for the keepalive interval. */
  idleCloses = 0;

  constructor(private readonly options: GrpcTransportOptions) {
    this.target = `${options.tls ? 'grpcs' : 'grpc'}://${options.address}`;
    this.destination = options.destination ?? destinationOf(options.address);
    // The :authority pseudo-header; a unix socket's collector is on this host.
    const authorityHost = this.destination.kind === 'tcp' ? hostPort(this.destination.host, this.destination.port) : 'localhost';
    this.authority = `${options.tls ? 'https' : 'http'}://${authorityHost}`;
    checkHeaders(options.headers);
    this.compressed = options.compression === 'gzip';
    this.scrub = createScrubber(secretHeaderValues(options.headers));
    this.requestHeaders = {
      ...buildMetadata(options.headers),
      [http2.constants.HTTP2_HEADER_METHOD]: 'POST',
      [http2.constants.HTTP2_HEADER_PATH]: options.method ?? GRPC_EXPORT_METHOD,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-accept-encoding': 'identity,gzip',
      ...(this.compressed ? { 'grpc-encoding': 'gzip' } : {}),
    };
  }

  async send(body: Uint8Array, timeoutMs: number): Promise<SendResult> {
    if (this.closed) return { outcome: 'retryable', reason: 'network', message: `transport to ${this.target} is closed` };
    const frame = frameMessage(this.compressed ? gzipSync(body, GZIP_OPTIONS) : body, this.compressed);
    const first = await this.call(frame, timeoutMs);
    // A session the collector closed while idle (GOAWAY, a restart) fails before the call was
    // seen; gRPC retries such a call transparently, and so do we, once, on a fresh session.
    return first.staleSession ? (await this.call(frame, timeoutMs)).result : first.result;
  }

  /**
   * The open session, or a new one on a new connection (the name resolved again); a session that
   * fails, closes or missed a keepalive ping is never used again, nor one made with TLS files
   * that have changed since.
   */
  private async currentSession(connectTimeoutMs: number): Promise<{ session: http2.ClientHttp2Session; reused: boolean }> {
    const open = this.session;
    const tls = this.options.tls?.current();
    if (open && !open.closed && !open.destroyed && tls === this.sessionTls) return { session: open, reused: true };
    if (open && tls !== this.sessionTls) open.close();
    this.opening ??= this.openSession(tls, connectTimeoutMs).finally(() => (this.opening = undefined));
    return { session: await this.opening, reused: false };
  }

  private async openSession(tls: TlsMaterial | undefined, timeoutMs: number): Promise<http2.ClientHttp2Session> {
    const socket = await openConnection(this.destination, {
      timeoutMs,
      proxy: this.options.proxy,
      lookup: this.options.lookup,
      tls: tls ? { material: tls, alpn: ['h2'] } : undefined,
    });
    const session = http2.connect(this.authority, { createConnection: () => socket });
    const forget = () => {
      if (this.session === session) this.session = undefined;
    };
    // Each call learns the session's failure through its own stream; here it only retires it.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    // An idle session must not keep the process alive; a call in flight has its own timer.
    session.unref();
    this.session = session;
    this.sessionTls = tls;
    this.lastActivity = Date.now();
    this.keepAlive(session, socket);
    return session;
  }

  /**
   * Once the interval has passed without a call starting or ending or a ping: with a call in
   * flight, pings the session and destroys it when the ping goes unanswered (the call fails at
   * once instead of at its deadline); with none, closes it, as gRPC clients send no ping without
   * a call. The next export then opens a new connection, which no NAT or load balancer can have
   * dropped silently, and an agent exporting less often than the interval wakes for nothing
   * between its exports.
   */
  private keepAlive(session: http2.ClientHttp2Session, socket: Duplex): void {
    const keepalive = this.options.keepalive;
    if (!keepalive || keepalive.intervalMs <= 0) return;
    const { intervalMs, timeoutMs } = keepalive;
    const retire = () => {
      this.keepaliveFailures += 1;
      const error: NodeJS.ErrnoException = new Error(`${this.target}: keepalive ping unanswered within ${timeoutMs} ms`);
      error.code = 'ETIMEDOUT';
      session.destroy(error);
      // The connection too, even one whose peer never finished HTTP/2's handshake.
      socket.destroy();
    };
    // One timer, due when the interval would have passed, not a look every few seconds.
    let due: NodeJS.Timeout | undefined;
    const arm = (ms: number): void => {
      due = setTimeout(check, ms);
      due.unref();
    };
    const check = (): void => {
      if (session.destroyed || session.closed) return;
      const idleMs = Date.now() - this.lastActivity;
      if (idleMs < intervalMs) return arm(intervalMs - idleMs);
      if (this.callsInFlight === 0) {
        this.idleCloses += 1;
        session.close();
        return;
      }
      this.lastActivity = Date.now();
      const deadline = setTimeout(retire, timeoutMs);
      deadline.unref();
      try {
        session.ping((error) => {
          clearTimeout(deadline);
          if (error && !session.destroyed) retire();
        });
      } catch {
        clearTimeout(deadline);
        retire();
      }
      arm(intervalMs);
    };
    arm(intervalMs);
    session.once('close', () => clearTimeout(due));
  }

  private async call(frame: Buffer, timeoutMs: number): Promise<Attempt> {
    this.lastActivity = Date.now();
    this.callsInFlight += 1;
    try {
      return await this.callOnSession(frame, timeoutMs);
    } finally {
      this.callsInFlight -= 1;
      this.lastActivity = Date.now();
    }
  }

  private async callOnSession(frame: Buffer, timeoutMs: number): Promise<Attempt> {
    const started = Date.now();
    let opened: { session: http2.ClientHttp2Session; reused: boolean };
    try {
      opened = await this.currentSession(timeoutMs);
    } catch (error) {
      const cause = error as NodeJS.ErrnoException;
      return { result: cause.code === 'ETIMEDOUT' ? deadlineResult(this.target, timeoutMs) : classifySocketError(cause, this.scrub) };
    }
    const { session, reused } = opened;
    // What is left of the deadline after connecting.
    const remainingMs = Math.max(1, timeoutMs - (Date.now() - started));
    return new Promise((resolve) => {
      let settled = false;
      let response: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (attempt: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(attempt);
      };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({ ...this.requestHeaders, 'grpc-timeout': `${Math.ceil(remainingMs)}m` });
      } catch (error) {
        // The session closed between the check and the call.
        resolve({ result: classifySocketError(error as NodeJS.ErrnoException, this.scrub), staleSession: reused });
        return;
      }
      const timer = setTimeout(() => {
        finish({ result: deadlineResult(this.target, timeoutMs) });
        stream.close(http2.constants.NGHTTP2_CANCEL);
        // Not even response headers: the connection may be dead without anyone saying so (a
        // NAT or load balancer dropped it). A fresh one costs a handshake; a dead one every call.
        if (!response) session.destroy();
      }, remainingMs);
      stream.on('response', (headers) => (response = headers));
      stream.on('trailers', (headers) => (trailers = headers));
      stream.on('data', (chunk: Buffer) => {
        if (size >= MAX_RESPONSE_BYTES) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ERR_HTTP2_STREAM_ERROR') {
          finish(this.resetAttempt(stream.rstCode, reused, session));
          return;
        }
        // A stream ended because its session failed carries the session's error as the cause.
        const cause = error.code === 'ERR_HTTP2_STREAM_CANCEL' && error.cause instanceof Error ? (error.cause as NodeJS.ErrnoException) : error;
        const goneBeforeAnswer = !response && (error.code === 'ERR_HTTP2_GOAWAY_SESSION' || error.code === 'ERR_HTTP2_STREAM_CANCEL' || cause.code === 'ECONNRESET');
        finish({ result: classifySocketError(cause, this.scrub), staleSession: reused && goneBeforeAnswer });
      });
      stream.on('close', () => {
        const statusSeen = trailers?.['grpc-status'] !== undefined || response?.['grpc-status'] !== undefined;
        if (!statusSeen && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
          finish(this.resetAttempt(stream.rstCode, reused, session));
          return;
        }
        finish({ result: this.interpret(response, trailers, Buffer.concat(chunks)) });
      });
      stream.end(frame);
    });
  }

  /** The call's status: from the trailers, or the headers of a trailers-only answer, or HTTP. */
  private interpret(response: http2.IncomingHttpHeaders | undefined, trailers: http2.IncomingHttpHeaders | undefined, body: Buffer): SendResult {
    const statusText = headerText(trailers?.['grpc-status']) ?? headerText(response?.['grpc-status']);
    if (statusText === undefined) return this.withoutStatus(response);
    const code = Number(statusText);
    const source = trailers?.['grpc-status'] !== undefined ? trailers : response;
    if (code === GrpcStatus.OK) {
      try {
        return acceptedResult(unframeMessage(body, headerText(response?.['grpc-encoding'])), this.scrub);
      } catch {
        return { outcome: 'ok' }; // accepted; only the answer's partial-success note is lost
      }
    }
    const detailsBin = headerText(source?.['grpc-status-details-bin']);
    const retryAfterMs = detailsBin ? decodeRpcStatus(Buffer.from(detailsBin, 'base64'))?.retryAfterMs : undefined;
    const details = decodeGrpcMessage(headerText(source?.['grpc-message']));
    return classifyGrpcStatus({ code: Number.isInteger(code) ? code : GrpcStatus.UNKNOWN, details, retryAfterMs }, this.scrub);
  }

  /** No grpc-status at all: an HTTP error from something in front of the collector. */
  private withoutStatus(response: http2.IncomingHttpHeaders | undefined): FailureResult {
    const httpStatus = Number(response?.[http2.constants.HTTP2_HEADER_STATUS] ?? 0);
    const code = httpStatus === 200 ? GrpcStatus.INTERNAL : grpcStatusOfHttp(httpStatus);
    return classifyGrpcStatus({ code, details: `HTTP ${httpStatus} without a gRPC status` }, this.scrub);
  }

  /**
   * A stream the collector reset (RST_STREAM) without a status: the connection's trouble, never a
   * verdict on the data, so always retryable. REFUSED_STREAM means the call was not processed (it
   * may go again at once on a new session); ENHANCE_YOUR_CALM asks us to slow down. gRPC maps
   * the codes other than CANCEL and INADEQUATE_SECURITY to INTERNAL, which OTLP does not retry.
   */
  private resetAttempt(rstCode: number, reused: boolean, session: http2.ClientHttp2Session): Attempt {
    const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INADEQUATE_SECURITY } = http2.constants;
    // A server that resets a stream with ENHANCE_YOUR_CALM may reset every later stream of the
    // session too (grpc-js does, after refusing a request over its size limit): the next call
    // opens a new session.
    if (rstCode === NGHTTP2_ENHANCE_YOUR_CALM) session.close();
    const details = rstCode === NGHTTP2_REFUSED_STREAM ? 'stream refused by the collector' : `stream reset by the collector (HTTP/2 error code ${rstCode})`;
    if (rstCode === NGHTTP2_ENHANCE_YOUR_CALM) {
      return { result: { outcome: 'retryable', reason: 'throttled', message: this.scrub(details), status: GrpcStatus.RESOURCE_EXHAUSTED } };
    }
    const code = rstCode === NGHTTP2_CANCEL ? GrpcStatus.CANCELLED : rstCode === NGHTTP2_INADEQUATE_SECURITY ? GrpcStatus.PERMISSION_DENIED : GrpcStatus.UNAVAILABLE;
    return { result: classifyGrpcStatus({ code, details }, this.scrub), staleSession: reused && rstCode === NGHTTP2_REFUSED_STREAM };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.session?.close();
  }
}
