// Opens the byte stream an export travels on, for both transports: a unix socket, a TCP
// connection to every address the name resolves to (resolved anew on each connection, tried in
// turn), or an HTTP CONNECT tunnel through the proxy the environment names; then TLS on top.
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { MIN_TLS_VERSION, type TlsMaterial } from './tls';

/** Where the collector listens. */
export type Destination = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export interface ConnectOptions {
  /** HTTP proxy to tunnel through (CONNECT); TCP destinations only. */
  proxy?: URL;
  /** TLS to the collector, with the ALPN protocols to offer. */
  tls?: { material: TlsMaterial; alpn?: string[] };
  /** Name lookup (dns.lookup by default); tests give their own. */
  lookup?: net.LookupFunction;
  /** Connecting, tunnelling and the TLS handshake together end with ETIMEDOUT after this long. */
  timeoutMs: number;
}

/** A proxy that did not open the tunnel; classified like a network failure. */
export class ProxyError extends Error {
  readonly code = 'EPROXY';
  constructor(proxy: URL, message: string) {
    super(`proxy ${proxy.host}: ${message}`);
    this.name = 'ProxyError';
  }
}

// Each address of a name gets this long before the next one is tried (RFC 8305 suggests 250 ms).
const ADDRESS_ATTEMPT_MS = 250;
// A CONNECT answer is a status line and a few headers.
const MAX_PROXY_REPLY_BYTES = 16 * 1024;

/** The TCP destination of an http(s) URL: its host without IPv6 brackets, its port or the scheme's. */
export function urlDestination(url: URL): Destination & { kind: 'tcp' } {
  return { kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
}

/** `host:port` in the form a CONNECT request line and an authority take (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function tcpConnect(host: string, port: number, lookup: net.LookupFunction | undefined): net.Socket {
  // autoSelectFamily tries every address the lookup returns, not only the first (an IPv6 ::1
  // nothing listens on must not hide the 127.0.0.1 the collector is on).
  return net.connect({ host: host.replace(/^\[|\]$/g, ''), port, autoSelectFamily: true, autoSelectFamilyAttemptTimeout: ADDRESS_ATTEMPT_MS, ...(lookup ? { lookup } : {}) });
}

function whenConnected(socket: net.Socket): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Asks the proxy for a tunnel to host:port and resolves with the socket once it answers 2xx. */
async function tunnel(proxy: URL, host: string, port: number, lookup: net.LookupFunction | undefined, track: (socket: net.Socket) => net.Socket): Promise<net.Socket> {
  const socket = await whenConnected(track(tcpConnect(proxy.hostname, Number(proxy.port || 80), lookup)));
  const authority = hostPort(host, port);
  const auth = proxy.username ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n` : '';
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
  return new Promise((resolve, reject) => {
    let reply = Buffer.alloc(0);
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      const end = reply.indexOf('\r\n\r\n');
      if (end < 0) {
        if (reply.length > MAX_PROXY_REPLY_BYTES) fail(new ProxyError(proxy, 'answer to CONNECT too long'));
        return;
      }
      cleanup();
      const statusLine = reply.subarray(0, reply.indexOf('\r\n')).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      if (status < 200 || status > 299) {
        fail(new ProxyError(proxy, `CONNECT ${authority} answered ${JSON.stringify(statusLine.slice(0, 100))}`));
        return;
      }
      // The tunnel is the caller's from here: no bytes read past the answer, nor read ahead.
      socket.pause();
      const rest = reply.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const onClose = () => fail(new ProxyError(proxy, `closed the connection before answering CONNECT ${authority}`));
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('close', onClose);
  });
}

function startTls(socket: net.Socket, servername: string, options: NonNullable<ConnectOptions['tls']>, track: (socket: net.Socket) => net.Socket): Promise<tls.TLSSocket> {
  const { material, alpn } = options;
  const secure = tls.connect({
    socket,
    servername: net.isIP(servername) ? undefined : servername,
    ca: material.ca,
    cert: material.cert,
    key: material.key,
    minVersion: MIN_TLS_VERSION,
    ALPNProtocols: alpn,
    ...(material.skipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : { rejectUnauthorized: true }),
  });
  track(secure);
  return new Promise((resolve, reject) => {
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}

/** A connected (and, with `tls`, handshaken) stream to the destination. */
export async function openConnection(destination: Destination, options: ConnectOptions): Promise<net.Socket> {
  // Each step's socket, so that the deadline can end whichever step is under way.
  let pending: net.Socket | undefined;
  const track = (socket: net.Socket): net.Socket => (pending = socket);
  const timer = setTimeout(() => {
    const error: NodeJS.ErrnoException = new Error(`no connection within ${options.timeoutMs} ms`);
    error.code = 'ETIMEDOUT';
    pending?.destroy(error);
  }, options.timeoutMs);
  try {
    let socket: net.Socket;
    if (destination.kind === 'unix') socket = await whenConnected(track(net.connect({ path: destination.path })));
    else if (options.proxy) socket = await tunnel(options.proxy, destination.host, destination.port, options.lookup, track);
    else socket = await whenConnected(track(tcpConnect(destination.host, destination.port, options.lookup)));
    if (!options.tls) return socket;
    return await startTls(socket, destination.kind === 'tcp' ? destination.host : 'localhost', options.tls, track);
  } finally {
    clearTimeout(timer);
  }
}

/** An https URL without `tls:` files: the system's CA store, verification on. */
export const SYSTEM_TRUST: TlsMaterial = { skipVerify: false };

/**
 * An HTTP agent whose connections come from openConnection (unix socket, every address of the
 * name, proxy tunnel, TLS), so that every HTTP client of the agent connects the same way.
 * Keep-alive unless `keepAlive: false` (a request a minute is not worth an idle connection).
 */
export class ConnectingAgent extends http.Agent {
  constructor(
    private readonly destination: Destination,
    private readonly connectOptions: { proxy?: URL; lookup?: net.LookupFunction; tls?: TlsMaterial; timeoutMs: number; keepAlive?: boolean },
  ) {
    super({ keepAlive: connectOptions.keepAlive ?? true });
    // The URL's scheme must match the agent's protocol; TLS is done by openConnection.
    (this as unknown as { protocol: string }).protocol = connectOptions.tls ? 'https:' : 'http:';
  }

  override createConnection(_options: http.ClientRequestArgs, done?: (error: Error | null, socket: Duplex) => void): undefined {
    const { proxy, lookup, tls: material, timeoutMs } = this.connectOptions;
    openConnection(this.destination, { proxy, lookup, timeoutMs, tls: material ? { material, alpn: ['http/1.1'] } : undefined }).then(
      // A tunnel comes paused; the HTTP parser reads it as a stream.
      (socket) => done?.(null, socket.resume()),
      (error: Error) => done?.(error, undefined as never),
    );
    return undefined;
  }
}
