// The local query API's one listener: HTTP, or HTTPS when api.tls names a certificate. Requests
// are matched against a routes table; every route but the public ones asks for the bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { ApiConfig } from '../config/types';
import { MIN_TLS_VERSION, TlsSource, type TlsMaterial } from '../exporter/tls';
import { applyListenerLimits, limitedServerOptions, type ListenerLimits } from '../health/listener-limits';
import { errorMessage, type Logger } from '../log/logger';

/** One request as a route sees it: the parsed URL beside Node's request and response. */
export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

export interface Route {
  /** The exact path, e.g. `/metrics/latest`. */
  path: string;
  /** True: answered without the token (/health, for load balancers and probes). */
  public?: boolean;
  /** GET and HEAD are the only methods the API serves. */
  handle(request: ApiRequest): void | Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

export function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** A 400 naming the query parameter at fault. */
export function badParameter(res: ServerResponse, parameter: string, message: string): void {
  sendJson(res, 400, { error: `${parameter}: ${message}`, parameter });
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether `header` carries the token. Both sides are hashed to the same length first, so the
 * comparison takes the same time whatever the presented token's length or content.
 */
export function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  const presented = digest(match?.[1] ?? '');
  return timingSafeEqual(presented, expected) && match !== null;
}

/** The API address cannot be bound; names the key and what to do. */
export class ApiListenError extends Error {
  constructor(readonly address: string, reason: string) {
    super(`api.address ${address} ${reason}`);
    this.name = 'ApiListenError';
  }
}

/** A certificate and key that do not load together; names the key. (One that cannot be read: TlsFileError.) */
export class ApiTlsError extends Error {
  constructor(readonly key: string, readonly path: string, reason: string) {
    super(`${key}: ${JSON.stringify(path)}: ${reason}`);
    this.name = 'ApiTlsError';
  }
}

const listenerContext = (material: TlsMaterial): SecureContextOptions => ({ cert: material.cert, key: material.key, minVersion: MIN_TLS_VERSION });

export interface ApiServer {
  /** The bound address, `host:port` (the real port when 0 was asked for). */
  readonly address: string;
  readonly scheme: 'http' | 'https';
  /** Reads the certificate and key again (SIGHUP); on failure the previous pair stays in use. */
  reloadTls(): void;
  close(): Promise<void>;
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) };
}

/**
 * A person's browser opens a few connections, a scraper or a script one: 32 is ample, and keeps
 * a flood of idle clients from taking the descriptors the exporter and the buffer need.
 */
export const API_LIMITS: ListenerLimits = { maxConnections: 32, headersTimeoutMs: 10_000, idleTimeoutMs: 30_000 };

/** Starts the listener on api.address; rejects when the address cannot be bound or TLS fails to load. */
export async function startApiServer(config: ApiConfig, routes: readonly Route[], logger: Logger, limits: ListenerLimits = API_LIMITS): Promise<ApiServer> {
  const table = new Map(routes.map((route) => [route.path, route]));
  const expected = config.token === '' ? undefined : digest(config.token);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void dispatch(table, expected, req, res).catch((err: unknown) => {
      logger.error({ event: 'api.request_failed', path: req.url?.split('?')[0], err: errorMessage(err) }, 'API request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
  // The agent's one TLS loading: read now (TlsFileError names api.tls.cert_file or key_file), again on SIGHUP.
  const tls = config.tls.cert_file !== '' ? new TlsSource(config.tls, 'api.tls') : undefined;
  let server: Server;
  if (tls) {
    const { createServer } = require('node:https') as typeof import('node:https');
    // A silent client never completes the handshake, so HTTP's header timeout never starts: the
    // handshake gets the same time (Node's default is two minutes).
    const options = { ...limitedServerOptions(), handshakeTimeout: limits.headersTimeoutMs };
    try {
      server = createServer({ ...options, ...listenerContext(tls.current()) }, handler);
    } catch (err) {
      throw new ApiTlsError('api.tls.cert_file', config.tls.cert_file, `does not load with api.tls.key_file as a PEM certificate and its private key (${errorMessage(err)})`);
    }
  } else {
    const { createServer } = require('node:http') as typeof import('node:http');
    server = createServer(limitedServerOptions(), handler);
  }
  applyListenerLimits(server, limits);
  const { host, port } = splitAddress(config.address);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use (another agent running?); choose another api.address or set api.enabled: false' : err.message;
      reject(new ApiListenError(config.address, why));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ event: 'api.error', err: err.message }, 'API listener error'));
  const bound = server.address() as AddressInfo;
  const address = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  const scheme = tls ? 'https' : 'http';
  logger.info({ event: 'api.listening', address, scheme, auth: expected !== undefined }, `local API on ${scheme}://${address}`);
  return {
    address,
    scheme,
    reloadTls: () => {
      if (!tls) return;
      try {
        (server as import('node:https').Server).setSecureContext(listenerContext(tls.reread()));
        logger.info({ event: 'api.tls_reloaded', cert_file: config.tls.cert_file }, 'API certificate re-read');
      } catch (err) {
        logger.error({ event: 'api.tls_reload_failed', err: errorMessage(err) }, 'API certificate not re-read; the previous one stays in use');
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function dispatch(table: ReadonlyMap<string, Route>, expected: Buffer | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://api.local');
  const route = table.get(url.pathname);
  if (route === undefined) {
    sendJson(res, 404, { error: 'not found', paths: [...table.keys()] });
    return;
  }
  if (!route.public && expected !== undefined && !bearerMatches(req.headers.authorization, expected)) {
    const challenge = req.headers.authorization === undefined ? 'Bearer realm="tfo-agent"' : 'Bearer realm="tfo-agent", error="invalid_token"';
    send(res, 401, 'application/json', JSON.stringify({ error: 'unauthorized: send Authorization: Bearer <api.token>' }), { 'www-authenticate': challenge });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }), { allow: 'GET, HEAD' });
    return;
  }
  await route.handle({ req, res, url });
}
