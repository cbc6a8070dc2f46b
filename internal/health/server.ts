import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CollectionResult } from '../collector/collector';
import type { Clock } from '../procfs/host';
import type { Logger } from '../log/logger';
import { applyListenerLimits, limitedServerOptions, type ListenerLimits } from './listener-limits';

/** The last export as /health reports it. */
export interface ExportStatusView {
  /** Wall-clock ms. */
  at: number;
  ok: boolean;
  /** Why it failed (refused, timeout, tls, credentials, …); absent when ok. */
  reason?: string;
}

/** Adds a section to /health (the buffer reports its backlog this way). */
export type StatusProvider = () => unknown;

/**
 * What the agent knows about itself for probes: collections and exports feed it; /health and
 * /ready read it. Components add sections with `addProvider` instead of being known here.
 */
export class HealthStatus {
  private readonly startedAt: number;
  private readonly collections = new Map<string, CollectionResult>();
  private readonly providers = new Map<string, StatusProvider>();
  private exportSource: () => ExportStatusView | undefined = () => undefined;
  private everCollected = false;

  constructor(
    private readonly clock: Clock,
    public agentId: string,
    private readonly version: string,
  ) {
    this.startedAt = clock.monotonic();
  }

  /** Ready once any collection succeeded; stays ready across reloads. */
  get ready(): boolean {
    return this.everCollected;
  }

  recordCollection(result: CollectionResult): void {
    this.collections.set(result.collector, result);
    if (result.ok) this.everCollected = true;
  }

  /** Forgets per-collector results, when the set of collectors is rebuilt. */
  resetCollections(): void {
    this.collections.clear();
  }

  setExportSource(source: () => ExportStatusView | undefined): void {
    this.exportSource = source;
  }

  addProvider(name: string, provider: StatusProvider): void {
    this.providers.set(name, provider);
  }

  removeProvider(name: string): void {
    this.providers.delete(name);
  }

  snapshot(): Record<string, unknown> {
    const results = [...this.collections.values()];
    const lastCollection =
      results.length === 0
        ? null
        : {
            at: new Date(Math.max(...results.map((r) => r.at))).toISOString(),
            ok: results.every((r) => r.ok),
            errors: Object.fromEntries(results.filter((r) => !r.ok).map((r) => [r.collector, r.error ?? 'failed'])),
          };
    const exported = this.exportSource();
    const lastExport = exported === undefined ? null : { at: new Date(exported.at).toISOString(), ok: exported.ok, ...(exported.reason ? { reason: exported.reason } : {}) };
    const degraded = (lastCollection !== null && !lastCollection.ok) || (lastExport !== null && !lastExport.ok);
    const body: Record<string, unknown> = {
      status: !this.ready ? 'starting' : degraded ? 'degraded' : 'ok',
      uptime_s: Math.round((this.clock.monotonic() - this.startedAt) / 1000),
      agent_id: this.agentId,
      version: this.version,
      last_collection: lastCollection,
      last_export: lastExport,
    };
    for (const [name, provider] of this.providers) body[name] = provider();
    return body;
  }
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListenAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`health.address: ${JSON.stringify(address)} is not host:port, e.g. "127.0.0.1:13133"`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export class HealthListenError extends Error {
  constructor(readonly address: string, reason: string) {
    super(`health.address ${address} ${reason}`);
    this.name = 'HealthListenError';
  }
}

export interface HealthServer {
  /** The bound address, `host:port` (the real port when 0 was asked for). */
  readonly address: string;
  close(): Promise<void>;
}

function respond(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function handle(status: HealthStatus, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    respond(res, 405, { error: 'method not allowed' });
  } else if (path === '/health') {
    respond(res, 200, status.snapshot());
  } else if (path === '/ready') {
    respond(res, status.ready ? 200 : 503, { ready: status.ready });
  } else {
    respond(res, 404, { error: 'not found', paths: ['/health', '/ready'] });
  }
}

/** Probes are a few short requests. */
export const HEALTH_LIMITS: ListenerLimits = { maxConnections: 32, headersTimeoutMs: 5_000, idleTimeoutMs: 10_000 };

/** Starts the probe listener. Rejects when the address cannot be bound (in use, not local). */
export async function startHealthServer(address: string, status: HealthStatus, logger: Logger, limits: ListenerLimits = HEALTH_LIMITS): Promise<HealthServer> {
  const { host, port } = parseListenAddress(address);
  // node:http is loaded only when the listener is on.
  const { createServer } = require('node:http') as typeof import('node:http');
  const server: Server = createServer(limitedServerOptions(), (req, res) => handle(status, req, res));
  applyListenerLimits(server, limits);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use (another agent running?); choose another health.address or set health.enabled: false' : err.message;
      reject(new HealthListenError(address, why));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const boundAddress = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  server.on('error', (err) => logger.error({ event: 'health.error', err: err.message }, 'health listener error'));
  logger.info({ event: 'health.listening', address: boundAddress }, `health endpoint on http://${boundAddress}/health`);
  return {
    address: boundAddress,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
