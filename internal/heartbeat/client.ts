import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeartbeatBody, HeartbeatReply, RegistrationRequest } from '../../pkg/heartbeat';
import { HostFs, systemClock, type Clock } from '../procfs/host';
import { maskUrlPassword } from '../config/secrets';
import type { AgentConfig, TelemetryFlowConfig } from '../config/types';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { osType, userAgent, VERSION } from '../version/version';
import { httpRequest, type HttpRequest } from './http';
import { createScrubber, type Scrubber } from '../exporter/classify';
import { urlDestination } from '../exporter/connect';
import { proxyFor } from '../exporter/proxy';
import { TlsSource, type TlsMaterial } from '../exporter/tls';
import { primaryInterface } from './interfaces';
import { sleep } from '../retry/backoff';
import { sendWithRetry, type RetryPolicy, type SendOutcome } from './retry';
import { SystemInfoBuilder } from './system-info';

/** Bounds for a server-chosen `next_interval`: no faster than 1 s, no slower than 1 h. */
export const MIN_INTERVAL_MS = 1000;
export const MAX_INTERVAL_MS = 3_600_000;
/** Where a server-assigned id (registration) is kept between runs, under agent.data_dir. */
export const REGISTERED_ID_FILE = 'registered-agent-id';
// The first heartbeat waits this long after start (non-blocking), so its CPU shares and rates
// cover a real interval rather than a few microseconds.
const DEFAULT_FIRST_DELAY_MS = 1000;

export interface HeartbeatOptions {
  config: AgentConfig;
  /** The agent's stable id (resolveAgentId); registration may replace it when config sets none. */
  agentId: string;
  logger: Logger;
  host?: HostFs;
  clock?: Clock;
  /** Environment and root of the agent's own process, for container detection. */
  env?: NodeJS.ProcessEnv;
  agentFs?: HostFs;
  firstDelayMs?: number;
  /** Jitter source, 0 ≤ x < 1. */
  random?: () => number;
}

export interface HeartbeatStatus {
  enabled: boolean;
  agentId: string;
  intervalMs: number;
  sent: number;
  failed: number;
  lastAttemptAt?: number;
  lastSuccessAt?: number;
  lastError?: string;
}

export interface Heartbeat {
  status(): HeartbeatStatus;
  /** Stops the schedule and aborts a heartbeat in flight; resolves when the loop has ended. */
  stop(): Promise<void>;
}

/** The contract's headers. The secret is only ever placed here, never in a log line or body. */
export function apiHeaders(tf: TelemetryFlowConfig): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'User-Agent': userAgent(),
    'X-Agent-Version': VERSION,
    'X-Agent-Product': 'tfo-agent',
  };
  if (tf.api_key_id && tf.api_key_secret) {
    headers['X-API-Key-ID'] = tf.api_key_id;
    headers['X-API-Key-Secret'] = tf.api_key_secret;
  }
  if (tf.workspace_id) headers['X-Workspace-ID'] = tf.workspace_id;
  if (tf.tenant_id) headers['X-Tenant-ID'] = tf.tenant_id;
  return headers;
}

// An id the API assigns goes into every heartbeat's URL and a file: a short printable token.
const MAX_ASSIGNED_ID_CHARS = 128;

function isAssignableId(id: string): boolean {
  return id.length <= MAX_ASSIGNED_ID_CHARS && /^[\x21-\x7e]+$/.test(id);
}

/** The password of a URL's userinfo as written and decoded; none when it has none. */
function urlPasswords(text: string): string[] {
  try {
    const { password } = new URL(text);
    return password === '' ? [] : [password, decodeURIComponent(password)];
  } catch {
    return [];
  }
}

/** `{backend}/agents/{id}/heartbeat` and `{backend}/agents`, whatever trailing slash the base has. */
export function apiUrl(backend: string, ...segments: string[]): URL {
  return new URL(`${backend.replace(/\/+$/, '')}/${segments.map(encodeURIComponent).join('/')}`);
}

/** A server-chosen interval in ms within [MIN, MAX], or undefined when the reply names none. */
export function nextIntervalMs(reply: HeartbeatReply): number | undefined {
  const seconds = Number(reply.next_interval);
  if (reply.next_interval === undefined || reply.next_interval === null || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(seconds * 1000)));
}

function parseObject(body: string): Record<string, unknown> {
  try {
    const value = JSON.parse(body) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export class HeartbeatClient implements Heartbeat {
  private readonly config: AgentConfig;
  private tlsSource?: TlsSource;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly builder: SystemInfoBuilder;
  private readonly stopController = new AbortController();
  private readonly streak: FailureStreak;
  private readonly sourcesStreak: FailureStreak;
  private readonly policy: RetryPolicy;
  private readonly headers: Record<string, string>;
  /** The server's words may echo what it was sent: the API secret and the backend URL's password never reach a log line. */
  private readonly scrub: Scrubber;
  private readonly loop: Promise<void>;
  private agentId: string;
  private intervalMs: number;
  private sent = 0;
  private failed = 0;
  private lastAttemptAt: number | undefined;
  private lastSuccessAt: number | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: HeartbeatOptions) {
    this.config = options.config;
    this.logger = options.logger.child({ component: 'heartbeat' });
    this.clock = options.clock ?? systemClock;
    this.agentId = options.agentId;
    this.intervalMs = this.config.heartbeat.interval;
    this.streak = new FailureStreak(this.logger, 'heartbeat', () => this.clock.now());
    this.sourcesStreak = new FailureStreak(this.logger, 'heartbeat.sources', () => this.clock.now());
    const { retry } = this.config.telemetryflow;
    this.policy = {
      timeoutMs: this.config.heartbeat.timeout,
      retry: retry.enabled,
      initialMs: retry.initial_interval,
      maxMs: retry.max_interval,
      random: options.random ?? Math.random,
    };
    this.headers = apiHeaders(this.config.telemetryflow);
    this.scrub = createScrubber([this.config.telemetryflow.api_key_secret, ...urlPasswords(this.config.telemetryflow.backend_endpoint)]);
    this.builder = new SystemInfoBuilder({
      config: this.config,
      logger: this.logger,
      host: options.host ?? new HostFs(this.config.host_root),
      agentFs: options.agentFs,
      env: options.env,
      clock: this.clock,
    });
    this.loop = this.run().catch((err: unknown) => {
      this.logger.error({ event: 'heartbeat.crashed', err: this.scrub(errorMessage(err)) }, 'heartbeat loop ended unexpectedly');
    });
  }

  status(): HeartbeatStatus {
    return {
      enabled: true,
      agentId: this.agentId,
      intervalMs: this.intervalMs,
      sent: this.sent,
      failed: this.failed,
      lastAttemptAt: this.lastAttemptAt,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
    };
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.loop;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Waits `ms` unless stopped first; the timer never keeps the process alive by itself. */
  private sleep(ms: number): Promise<void> {
    return sleep(ms, this.stopController.signal, true);
  }

  private async run(): Promise<void> {
    const backend = this.config.telemetryflow.backend_endpoint;
    this.logger.info({ event: 'heartbeat.started', url: maskUrlPassword(apiUrl(backend, 'agents', this.agentId, 'heartbeat').href), interval_ms: this.intervalMs }, 'heartbeat started');
    const started = this.clock.monotonic();
    await this.builder.prime();
    if (this.config.heartbeat.register) {
      await this.register().catch((err: unknown) => {
        this.logger.warn({ event: 'heartbeat.registration_failed', err: this.scrub(errorMessage(err)) }, 'registration failed; heartbeats use the local agent id');
      });
    }
    const firstDelay = this.options.firstDelayMs ?? Math.min(DEFAULT_FIRST_DELAY_MS, this.intervalMs);
    await this.sleep(Math.max(0, firstDelay - (this.clock.monotonic() - started)));
    while (!this.stopped) {
      const beganAt = this.clock.monotonic();
      try {
        await this.beat();
      } catch (err) {
        // A bug in one beat must not end the schedule; it is reported like any failure.
        this.failed += 1;
        this.lastError = this.scrub(`internal error: ${errorMessage(err)}`);
        this.streak.failure(this.lastError);
      }
      await this.sleep(Math.max(0, this.intervalMs - (this.clock.monotonic() - beganAt)));
    }
  }


  /** Read on the first https request, not per request; throws TlsFileError (a failed attempt). */
  private tlsMaterial(): TlsMaterial {
    this.tlsSource ??= new TlsSource(this.config.telemetryflow.tls);
    return this.tlsSource.current();
  }

  /** The proxy the environment names for the API, read as for the OTLP export; throws ProxyConfigError (a failed attempt). */
  private proxyTo(url: URL): HttpRequest['proxy'] {
    const { host, port } = urlDestination(url);
    const proxy = proxyFor(url.protocol === 'https:' ? 'https' : 'http', host, port, this.options.env ?? process.env);
    return proxy && { url: proxy, connectTimeoutMs: this.policy.timeoutMs };
  }

  private post(url: URL, body: unknown): Promise<SendOutcome> {
    const text = JSON.stringify(body);
    return sendWithRetry(
      (signal) => httpRequest({ method: 'POST', url, headers: this.headers, body: text, signal, tls: url.protocol === 'https:' ? this.tlsMaterial() : undefined, proxy: this.proxyTo(url) }),
      this.policy,
      this.clock,
      this.stopController.signal,
    );
  }

  private describe(outcome: Exclude<SendOutcome, { kind: 'ok' | 'stopped' }>): string {
    switch (outcome.kind) {
      case 'unauthorized':
        return `credentials rejected (HTTP ${outcome.status}: ${outcome.message}); check telemetryflow.api_key_id and api_key_secret`;
      case 'rejected':
        return `request rejected (HTTP ${outcome.status}: ${outcome.message}); not retried`;
      case 'gave_up':
        return `no success within heartbeat.timeout (${outcome.reason})`;
    }
  }

  private async beat(): Promise<void> {
    const body: Partial<HeartbeatBody> = {};
    if (this.config.heartbeat.include_system_info) {
      const { systemInfo, problems } = await this.builder.build();
      body.systemInfo = systemInfo;
      if (problems.length > 0) this.sourcesStreak.failure(`fields left out: ${problems.join('; ')}`);
      else this.sourcesStreak.success();
    }
    if (this.stopped) return;
    this.lastAttemptAt = this.clock.now();
    const outcome = await this.post(apiUrl(this.config.telemetryflow.backend_endpoint, 'agents', this.agentId, 'heartbeat'), body);
    if (outcome.kind === 'stopped') return;
    if (outcome.kind === 'ok') {
      this.sent += 1;
      this.lastSuccessAt = this.clock.now();
      this.lastError = undefined;
      if (this.sent === 1) this.logger.info({ event: 'heartbeat.accepted', agent_id: this.agentId, attempts: outcome.attempts }, 'first heartbeat accepted');
      this.streak.success();
      this.adjustInterval(parseObject(outcome.body) as HeartbeatReply);
      return;
    }
    this.failed += 1;
    this.lastError = this.scrub(this.describe(outcome));
    this.streak.failure(this.lastError, { attempts: outcome.attempts, status: 'status' in outcome ? outcome.status : undefined });
  }

  private adjustInterval(reply: HeartbeatReply): void {
    const next = nextIntervalMs(reply) ?? this.config.heartbeat.interval;
    if (next === this.intervalMs) return;
    this.logger.info({ event: 'heartbeat.interval_changed', interval_ms: next, previous_ms: this.intervalMs, requested_s: reply.next_interval }, 'heartbeat interval changed by the server');
    this.intervalMs = next;
  }

  /** POST {backend}/agents; keeps the returned id when the config names none. */
  private async register(): Promise<void> {
    const { systemInfo } = await this.builder.build();
    const primary = primaryInterface(systemInfo.networkInterfaces ?? []);
    const request: RegistrationRequest = {
      hostname: systemInfo.hostname,
      agentVersion: VERSION,
      operatingSystem: [osType(), systemInfo.platform, systemInfo.osVersion].filter(Boolean).join(' '),
      macAddress: primary.mac,
      ipAddress: primary.ip,
      description: this.config.agent.description,
      tags: this.config.agent.tags,
    };
    const outcome = await this.post(apiUrl(this.config.telemetryflow.backend_endpoint, 'agents'), request);
    if (outcome.kind === 'stopped') return;
    const configured = this.config.agent.id !== '';
    if (outcome.kind === 'ok') {
      const id = parseObject(outcome.body).id;
      const answered = typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined;
      const assigned = answered !== undefined && isAssignableId(answered) ? answered : undefined;
      if (answered !== undefined && assigned === undefined) {
        this.logger.warn(
          { event: 'heartbeat.registration_id_refused', length: answered.length },
          `the API assigned an id that is not 1-${MAX_ASSIGNED_ID_CHARS} printable characters (${answered.length} characters); heartbeats use the local agent id`,
        );
      }
      if (assigned !== undefined && !configured) {
        this.agentId = assigned;
        this.persistRegisteredId(assigned);
      }
      this.logger.info({ event: 'heartbeat.registered', agent_id: this.agentId, server_id: assigned }, 'agent registered with the TelemetryFlow API');
      return;
    }
    const previous = configured ? undefined : this.readRegisteredId();
    if (previous !== undefined) this.agentId = previous;
    this.logger.warn(
      { event: 'heartbeat.registration_failed', reason: this.scrub(this.describe(outcome)), agent_id: this.agentId },
      previous !== undefined ? 'registration failed; using the id the API assigned on an earlier run' : 'registration failed; heartbeats use the local agent id',
    );
  }

  private registeredIdFile(): string {
    return join(this.config.agent.data_dir, REGISTERED_ID_FILE);
  }

  private readRegisteredId(): string | undefined {
    try {
      const stored = readFileSync(this.registeredIdFile(), 'utf8').trim();
      return isAssignableId(stored) ? stored : undefined;
    } catch {
      return undefined;
    }
  }

  private persistRegisteredId(id: string): void {
    const file = this.registeredIdFile();
    try {
      mkdirSync(this.config.agent.data_dir, { recursive: true });
      // Written aside and renamed so a crash never leaves half an id behind.
      writeFileSync(`${file}.tmp`, id + '\n');
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.logger.warn({ event: 'heartbeat.registered_id_not_saved', file, err: errorMessage(err) }, 'the registered agent id could not be saved; the next start registers again');
    }
  }
}
