import * as http from 'node:http';
import * as https from 'node:https';
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
    const req = transport.request(
      url,
      { method: request.method, headers, ...(url.protocol === 'https:' ? tlsOptions(request.tls) : {}) },
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
    req.on('close', () => signal.removeEventListener('abort', onAbort));
    req.on('error', (err) => reject(err instanceof NetworkError ? err : new NetworkError(url.origin, codeOf(err), err.message)));
    req.end(request.body);
  });
}

function codeOf(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
