// What the agent's own listeners (the probe endpoint, the local API) let clients hold. Without a
// cap, idle or slow clients (hundreds of sockets) would take the file descriptors the exporter and
// the buffer need. A connection beyond the cap is closed at once; one that sends no complete
// request headers within headersTimeoutMs, or stays silent for idleTimeoutMs, is closed.
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';

export interface ListenerLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
}

/** The createServer options that enforce the limits' timeouts (http and https alike). */
export function limitedServerOptions(limits: ListenerLimits): ServerOptions {
  // The timeouts are checked this often; never slower than the shortest of them.
  return { connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs), headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.idleTimeoutMs };
}

/** Caps the server's connections and closes the silent ones. */
export function applyListenerLimits(server: Server, limits: ListenerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = Math.min(5_000, limits.idleTimeoutMs);
  server.timeout = limits.idleTimeoutMs;
  server.on('timeout', (socket: Socket) => socket.destroy());
}
