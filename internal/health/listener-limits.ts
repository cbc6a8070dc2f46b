// What the agent's own listeners (the probe endpoint, the local API) let clients hold. Without a
// cap, idle or slow clients (hundreds of sockets) would take the file descriptors the exporter and
// the buffer need. A connection beyond the cap is closed at once; one that sends no complete
// request headers within headersTimeoutMs, or stays silent for idleTimeoutMs, is closed.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ListenerLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
}

// setInterval's longest delay: Node's own check never runs in practice.
const NEVER_MS = 2 ** 31 - 1;

/**
 * The createServer options (http and https alike). Node's own header and request timeouts are
 * enforced by a timer that wakes the process every interval whether anyone is connected or not;
 * applyListenerLimits enforces them with timers that exist only while a connection does.
 */
export function limitedServerOptions(): ServerOptions {
  return { connectionsCheckingInterval: NEVER_MS, headersTimeout: 0, requestTimeout: 0 };
}

/** Caps the server's connections and closes the silent and the slow ones. */
export function applyListenerLimits(server: Server, limits: ListenerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = Math.min(5_000, limits.idleTimeoutMs);
  server.timeout = limits.idleTimeoutMs;
  server.on('timeout', (socket: Socket) => socket.destroy());
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>();
  const arm = (socket: Socket, ms: number, unless: () => boolean = () => false): void => {
    clearTimeout(deadlines.get(socket));
    const timer = setTimeout(() => unless() || socket.destroy(), ms);
    timer.unref();
    deadlines.set(socket, timer);
  };
  // Over TLS the request's socket is the TLS one; the handshake has its own timeout.
  const accepted = 'addContext' in server ? 'secureConnection' : 'connection';
  server.on(accepted, (socket: Socket) => {
    arm(socket, limits.headersTimeoutMs);
    socket.once('close', () => clearTimeout(deadlines.get(socket)));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    // The headers are in; the rest of the request (a body) within the idle timeout.
    arm(socket, limits.idleTimeoutMs, () => req.complete);
    // The next request on a kept-alive connection: its headers within the keep-alive wait and
    // the header timeout together, the longest Node's own check would allow.
    res.once('finish', () => {
      if (!socket.destroyed) arm(socket, server.keepAliveTimeout + limits.headersTimeoutMs);
    });
  });
}
