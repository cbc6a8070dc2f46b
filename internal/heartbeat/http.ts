import * as http from 'node:http';
import * as https from 'node:https';
import { ConnectingAgent, SYSTEM_TRUST, urlDestination } from '../exporter/connect';
import { MIN_TLS_VERSION, type TlsMaterial } from '../exporter/tls';

/** One HTTP exchange as the heartbeat sees it. */
export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** Aborts the request; a timeout is expressed as an aborted signal. */
  signal: AbortSignal;
  /** For https URLs; undefined means the system's CA store and verification. */
  tls?: TlsMaterial;
  /** An HTTP proxy to tunnel through (CONNECT), and how long connecting through it may take. */
  proxy?: { url: URL; connectTimeoutMs: number };
}

/** A request that got no HTTP answer: refused, reset, DNS failure, timeout. */
export class NetworkError extends Error {
  constructor(readonly url: string, readonly code: string, message: string) {
    super(`${url}: ${message}`);
    this.name = 'NetworkError';
  }
}

// Replies larger than this are cut: the API answers a few hundred bytes, and a runaway body must
// not grow the agent's memory.
const MAX_REPLY_BYTES = 1 << 20;

function tlsOptions(tls: TlsMaterial | undefined): https.RequestOptions {
  if (!tls) return {};
  return { rejectUnauthorized: !tls.skipVerify, minVersion: MIN_TLS_VERSION, ca: tls.ca, cert: tls.cert, key: tls.key };
}

/**
 * Sends one request with node:http(s) (not fetch) so the API's TLS settings (CA, client
 * certificate, skip_verify) apply. Resolves with any HTTP status; rejects with NetworkError only
 * when no answer arrived.
 */
export function httpRequest(request: HttpRequest): Promise<HttpReply> {
  const { url, signal } = request;
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<HttpReply>((resolve, reject) => {
    if (signal.aborted) {
      reject(new NetworkError(url.origin, 'ETIMEDOUT', 'timed out before sending'));
      return;
    }
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers['Content-Length'] = Buffer.byteLength(request.body);
    const agent = request.proxy && tunnelAgent(url, request.proxy, request.tls);
    const req = transport.request(
      url,
      { method: request.method, headers, ...(agent ? { agent } : url.protocol === 'https:' ? tlsOptions(request.tls) : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_REPLY_BYTES) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(new NetworkError(url.origin, codeOf(err), err.message)));
      },
    );
    const onAbort = (): void => {
      req.destroy(new NetworkError(url.origin, 'ETIMEDOUT', 'timed out'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      agent?.destroy();
    });
    req.on('error', (err) => reject(err instanceof NetworkError ? err : new NetworkError(url.origin, codeOf(err), err.message)));
    req.end(request.body);
  });
}

/** A one-request agent whose connection is a CONNECT tunnel through the proxy, TLS end to end. */
function tunnelAgent(url: URL, proxy: NonNullable<HttpRequest['proxy']>, tls: TlsMaterial | undefined): ConnectingAgent {
  const https = url.protocol === 'https:';
  return new ConnectingAgent(urlDestination(url), { proxy: proxy.url, tls: https ? (tls ?? SYSTEM_TRUST) : undefined, timeoutMs: proxy.connectTimeoutMs, keepAlive: false });
}

function codeOf(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
