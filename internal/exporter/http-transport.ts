// OTLP/HTTP with protobuf bodies: POST to the metrics URL over a keep-alive connection.
import * as http from 'node:http';
import type { LookupFunction } from 'node:net';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import type { Compression } from '../config/types';
import { acceptedResult, classifyHttpStatus, classifySocketError, createScrubber, type Scrubber } from './classify';
import { parseRetryAfter } from '../retry/backoff';
import { checkHeaders, secretHeaderValues } from './headers';
import { decodeRpcStatus } from './rpc-status';
import { ConnectingAgent, SYSTEM_TRUST, urlDestination, type Destination } from './connect';
import type { TlsMaterial, TlsSource } from './tls';
import type { OtlpTransport, SendResult } from './types';
import { deadlineResult, GZIP_OPTIONS, MAX_RESPONSE_BYTES } from './wire';

const gzipAsync = promisify(gzip);

// Compressing a typical export (a few KB) inline costs a quarter of a trip through libuv's thread
// pool; only large bodies (buffer replays) are worth moving off the event loop.
const INLINE_GZIP_MAX_BYTES = 256 * 1024;


export interface HttpTransportOptions {
  /** The full metrics URL (http:// or https://). */
  url: string;
  /** Where to connect; by default the URL's host and port. */
  destination?: Destination;
  headers: Record<string, string>;
  compression: Compression;
  /** Used when the URL is https. */
  tls?: TlsSource;
  /** HTTP proxy to tunnel through (CONNECT). */
  proxy?: URL;
  /** Name lookup, resolved anew for each connection (dns.lookup by default). */
  lookup?: LookupFunction;
  now?: () => number;
}

export class HttpTransport implements OtlpTransport {
  readonly protocol = 'http' as const;
  readonly target: string;
  private readonly url: URL;
  private readonly destination: Destination;
  private agent?: ConnectingAgent;
  /** The TLS material the agent's connections are made with. */
  private agentTls?: TlsMaterial;
  private readonly scrub: Scrubber;
  private readonly now: () => number;

  constructor(private readonly options: HttpTransportOptions) {
    checkHeaders(options.headers);
    this.url = new URL(options.url);
    this.target = this.url.href;
    this.scrub = createScrubber(secretHeaderValues(options.headers));
    this.now = options.now ?? Date.now;
    this.destination = options.destination ?? urlDestination(this.url);
  }

  /** The agent, replaced (its idle connections closed) when the TLS files changed. */
  private currentAgent(timeoutMs: number): ConnectingAgent {
    const tls = this.url.protocol === 'https:' ? (this.options.tls?.current() ?? SYSTEM_TRUST) : undefined;
    if (this.agent && tls === this.agentTls) return this.agent;
    this.agent?.destroy();
    this.agentTls = tls;
    this.agent = new ConnectingAgent(this.destination, { proxy: this.options.proxy, lookup: this.options.lookup, tls, timeoutMs });
    return this.agent;
  }

  async send(body: Uint8Array, timeoutMs: number): Promise<SendResult> {
    const compressed = this.options.compression === 'gzip';
    const payload = !compressed
      ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      : body.byteLength <= INLINE_GZIP_MAX_BYTES
        ? gzipSync(body, GZIP_OPTIONS)
        : await gzipAsync(body, GZIP_OPTIONS);
    const headers: http.OutgoingHttpHeaders = {
      ...this.options.headers,
      'Content-Type': 'application/x-protobuf',
      'Content-Length': payload.length,
      ...(compressed ? { 'Content-Encoding': 'gzip' } : {}),
    };
    const first = await this.post(payload, headers, timeoutMs);
    // A keep-alive socket the collector closed while idle fails at once with ECONNRESET before
    // the collector saw anything; Node's documented remedy is to send again on a fresh socket.
    return first.staleSocket ? (await this.post(payload, headers, timeoutMs)).result : first.result;
  }

  private post(payload: Buffer, headers: http.OutgoingHttpHeaders, timeoutMs: number): Promise<{ result: SendResult; staleSocket?: boolean }> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: SendResult, staleSocket = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ result, staleSocket });
      };
      const req = http.request(this.url, { method: 'POST', agent: this.currentAgent(timeoutMs), headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size >= MAX_RESPONSE_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => finish(this.interpret(res, Buffer.concat(chunks))));
        res.on('error', (err) => finish(classifySocketError(err, this.scrub)));
      });
      const timer = setTimeout(() => {
        finish(deadlineResult(this.target, timeoutMs));
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => finish(classifySocketError(err, this.scrub), req.reusedSocket && err.code === 'ECONNRESET'));
      req.end(payload);
    });
  }

  private interpret(res: http.IncomingMessage, body: Buffer): SendResult {
    const status = res.statusCode ?? 0;
    const contentType = String(res.headers['content-type'] ?? '');
    const isProtobuf = contentType.includes('protobuf');
    if (status >= 200 && status < 300) return isProtobuf ? acceptedResult(body, this.scrub) : { outcome: 'ok' };
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.now());
    return classifyHttpStatus(status, this.scrub(`HTTP ${status}: ${this.errorText(body, contentType, isProtobuf) || (http.STATUS_CODES[status] ?? 'error')}`), retryAfterMs);
  }

  /** The collector's message: google.rpc.Status for protobuf, `message` of a JSON body, or the text. */
  private errorText(body: Buffer, contentType: string, isProtobuf: boolean): string {
    if (body.length === 0) return '';
    if (isProtobuf) return decodeRpcStatus(body)?.message ?? '';
    const text = body.toString('utf8').trim();
    if (contentType.includes('json')) {
      try {
        const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
        const message = parsed.message ?? parsed.error;
        if (typeof message === 'string') return message;
      } catch {
        // Not JSON after all: the text itself is the message.
      }
    }
    return text;
  }

  async close(): Promise<void> {
    this.agent?.destroy();
  }
}
