import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import { heartbeatSchema } from '../../internal/heartbeat/schema';

/**
 * A stand-in for the TelemetryFlow API (which cannot run here): real HTTP on loopback that checks
 * every heartbeat body against pkg/heartbeat.schema.json and every request's headers against the
 * contract, records what it got, and answers as told.
 */

export type ApiAnswer =
  | { kind: 'ok'; nextInterval?: number }
  | { kind: 'status'; status: number; body?: unknown; retryAfter?: string }
  | { kind: 'slow'; delayMs: number; nextInterval?: number }
  | { kind: 'silent' };

export const answers = {
  ok: (nextInterval?: number): ApiAnswer => ({ kind: 'ok', nextInterval }),
  unauthorized: (): ApiAnswer => ({ kind: 'status', status: 401, body: { success: false, error: 'Invalid API key', error_code: 'UNAUTHORIZED' } }),
  rateLimited: (retryAfterSeconds: number): ApiAnswer => ({ kind: 'status', status: 429, retryAfter: String(retryAfterSeconds), body: { success: false, error: 'Too many requests' } }),
  serverError: (): ApiAnswer => ({ kind: 'status', status: 500, body: { success: false, error: 'Internal error' } }),
  unavailable: (): ApiAnswer => ({ kind: 'status', status: 503, body: { success: false, error: 'Service unavailable' } }),
  badRequest: (message: string): ApiAnswer => ({ kind: 'status', status: 400, body: { success: false, error: message, error_code: 'INVALID_REQUEST' } }),
  notFound: (): ApiAnswer => ({ kind: 'status', status: 404, body: { success: false, error: 'Agent not found', error_code: 'NOT_FOUND' } }),
  slow: (delayMs: number): ApiAnswer => ({ kind: 'slow', delayMs }),
  silent: (): ApiAnswer => ({ kind: 'silent' }),
};

export interface ApiRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: unknown;
  /** Wall-clock ms. */
  at: number;
  /** What violates the contract; empty for a good request. */
  problems: string[];
}

export interface ExpectedIdentity {
  keyId?: string;
  keySecret?: string;
  workspaceId?: string;
  tenantId?: string;
}

export interface FakeTelemetryFlowApi {
  /** The backend_endpoint to configure, e.g. http://127.0.0.1:PORT/api/v2. */
  readonly url: string;
  readonly requests: ApiRequest[];
  heartbeats(): ApiRequest[];
  registrations(): ApiRequest[];
  /** Answers for the next requests, in order; after them, `fallback`. */
  queue(...next: ApiAnswer[]): void;
  fallback: ApiAnswer;
  /** Id returned by POST /agents. */
  registeredId: string;
  waitFor(predicate: (requests: ApiRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const USER_AGENT = /^tfo-agent\/\d+\.\d+\.\d+\S* \([a-z0-9]+; [a-z0-9_]+\)$/;
const BASE_PATH = '/api/v2';

function headerProblems(headers: IncomingHttpHeaders, expected: ExpectedIdentity): string[] {
  const problems: string[] = [];
  const want = (name: string, ok: (value: string | undefined) => boolean, what: string): void => {
    const value = headers[name];
    if (!ok(typeof value === 'string' ? value : undefined)) problems.push(`header ${name}: ${JSON.stringify(value)} ${what}`);
  };
  want('content-type', (v) => v === 'application/json', 'is not application/json');
  want('accept', (v) => v === 'application/json', 'is not application/json');
  want('user-agent', (v) => v !== undefined && USER_AGENT.test(v), 'is not "tfo-agent/<version> (<os>; <arch>)"');
  want('x-agent-version', (v) => v !== undefined && /^\d+\.\d+\.\d+/.test(v), 'is not a version');
  want('x-agent-product', (v) => v === 'tfo-agent', 'is not tfo-agent');
  const exact = (name: string, value: string | undefined): void =>
    want(name, (v) => v === value, value === undefined ? 'should be absent' : `should be ${JSON.stringify(value)}`);
  exact('x-api-key-id', expected.keyId);
  exact('x-api-key-secret', expected.keySecret);
  exact('x-workspace-id', expected.workspaceId);
  exact('x-tenant-id', expected.tenantId);
  return problems;
}

const REGISTRATION_FIELDS: Record<string, string> = {
  hostname: 'string', agentVersion: 'string', operatingSystem: 'string', macAddress: 'string', ipAddress: 'string', description: 'string', tags: 'object',
};

function registrationProblems(body: unknown): string[] {
  if (body === null || typeof body !== 'object') return ['registration body is not a JSON object'];
  const record = body as Record<string, unknown>;
  const problems = Object.entries(REGISTRATION_FIELDS)
    .filter(([field, type]) => typeof record[field] !== type)
    .map(([field, type]) => `registration field ${field} is not a ${type}`);
  const extra = Object.keys(record).filter((k) => !(k in REGISTRATION_FIELDS));
  if (extra.length > 0) problems.push(`registration has unexpected fields ${extra.join(', ')}`);
  return problems;
}

export async function startFakeTelemetryFlowApi(expected: ExpectedIdentity = {}): Promise<FakeTelemetryFlowApi> {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validateHeartbeat = ajv.compile(heartbeatSchema());
  const requests: ApiRequest[] = [];
  const pending: ApiAnswer[] = [];
  const waiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();

  const api = {
    url: '',
    requests,
    fallback: answers.ok() as ApiAnswer,
    registeredId: 'srv-agent-0001',
    heartbeats: () => requests.filter((r) => r.path.endsWith('/heartbeat')),
    registrations: () => requests.filter((r) => r.path === `${BASE_PATH}/agents`),
    queue: (...next: ApiAnswer[]) => void pending.push(...next),
    waitFor(predicate: (r: ApiRequest[]) => boolean, timeoutMs = 15_000): Promise<void> {
      if (predicate(requests)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(requests)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake API: condition not met within ${timeoutMs} ms (${requests.length} requests: ${requests.map((r) => r.path).join(', ')})`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const answer = (req: ApiRequest, res: ServerResponse, how: ApiAnswer): void => {
    const okBody = (nextInterval?: number): unknown =>
      req.path.endsWith('/agents')
        ? { id: api.registeredId }
        : { success: true, timestamp: new Date().toISOString(), server_time: Math.floor(Date.now() / 1000), agent_status: 'active', config_version: '1.0.0', ...(nextInterval !== undefined ? { next_interval: nextInterval } : {}) };
    switch (how.kind) {
      case 'ok':
        return reply(res, req.path.endsWith('/agents') ? 201 : 200, okBody(how.nextInterval));
      case 'status':
        return reply(res, how.status, how.body ?? {}, how.retryAfter !== undefined ? { 'Retry-After': how.retryAfter } : {});
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) reply(res, 200, okBody(how.nextInterval));
        }, how.delayMs);
        timers.add(timer);
        return;
      }
      case 'silent':
        return; // the socket stays open and unanswered until the client gives up or close()
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '').split('?')[0]!;
      const problems = headerProblems(req.headers, expected);
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        problems.push('body is not JSON');
      }
      if (req.method !== 'POST') problems.push(`method ${req.method} is not POST`);
      if (/^\/api\/v2\/agents\/[^/]+\/heartbeat$/.test(path)) {
        if (!validateHeartbeat(body)) problems.push(...(validateHeartbeat.errors ?? []).map((e) => `schema: ${e.instancePath} ${e.message}`));
      } else if (path === `${BASE_PATH}/agents`) {
        problems.push(...registrationProblems(body));
      } else {
        problems.push(`unknown path ${path}`);
      }
      const recorded: ApiRequest = { method: req.method ?? '', path, headers: req.headers, raw, body, at: Date.now(), problems };
      requests.push(recorded);
      for (const waiter of [...waiters]) waiter();
      if (problems.length > 0) return reply(res, 400, { success: false, error: problems.join('; '), error_code: 'INVALID_REQUEST' });
      answer(recorded, res, pending.shift() ?? api.fallback);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${BASE_PATH}`;
  return api;
}
