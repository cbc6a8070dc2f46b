// Runs the built CLI as a child process, the way an operator or a service manager does, and
// reads its structured log lines back.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, REPO_ROOT, SERVICE_LAUNCHER } from '../support/paths';

export interface LogLine {
  level: string;
  msg: string;
  event?: string;
  [key: string]: unknown;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Environment without the operator's own TELEMETRYFLOW_* / OTEL_* settings, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(TELEMETRYFLOW_|OTEL_|NODE_NAME$|K8S_NODE_NAME$)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** One CLI invocation that runs to completion (version, config validate, a failing start). */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cleanEnv(options.env),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** A temp directory for one test's config and state, removed by `cleanup`. */
export function tempWorkspace(prefix = 'tfo-e2e-'): { dir: string; file(name: string, text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export class AgentProcess {
  readonly lines: LogLine[] = [];
  /** Output that is not a JSON log line (stderr, startup errors). */
  raw = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private done = false;

  /** `service`: started as the unit and the image start it, through tfo-agentd (which execs Node). */
  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; service?: boolean } = {}) {
    const spawnOptions = { cwd: options.cwd ?? REPO_ROOT, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
    this.child = options.service
      ? spawn('/bin/sh', [SERVICE_LAUNCHER, ...args], { ...spawnOptions, env: { ...spawnOptions.env, TFO_AGENT_NODE: process.execPath } })
      : spawn(process.execPath, [CLI, ...args], spawnOptions);
    let pending = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) this.take(part);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.raw += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        if (pending) this.take(pending);
        this.done = true;
        this.notify();
        resolve({ code, signal });
      });
    });
  }

  private take(line: string): void {
    if (line.trim() === '') return;
    try {
      this.lines.push(JSON.parse(line) as LogLine);
    } catch {
      this.raw += line + '\n';
    }
    this.notify();
  }

  /** The agent's process id, for CPU and memory read from /proc. */
  get pid(): number {
    return this.child.pid!;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Every log line and raw output, for assertion messages. */
  transcript(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n') + '\n' + this.raw;
  }

  /** Resolves with the first log line matching; rejects on timeout or if the agent exits first. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.lines.find(predicate);
        if (found) finish(() => resolve(found));
        else if (this.done) finish(() => reject(new Error(`agent exited before the expected log line\n${this.transcript()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`expected log line not seen in ${timeoutMs} ms\n${this.transcript()}`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  waitForEvent(event: string, timeoutMs?: number): Promise<LogLine> {
    return this.waitForLog((line) => line.event === event, timeoutMs);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Ends the process whatever its state; every test calls this in its cleanup. */
  async kill(): Promise<void> {
    if (!this.done) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export interface AgentConfigOptions {
  protocol: 'grpc' | 'http';
  endpoint: string;
  dataDir: string;
  interval?: string;
  compression?: 'gzip' | 'none';
  endpointVersion?: 'v1' | 'v2';
  tls?: { enabled: boolean; ca_file?: string; skip_verify?: boolean };
  /** Health listener; port 0 picks a free one, logged as event health.listening. */
  health?: { enabled: boolean; address?: string };
  agentName?: string;
  shutdownTimeout?: string;
  apiKeyId?: string;
  apiKeySecret?: string;
  headers?: Record<string, string>;
}

/**
 * A config for one agent under test: the receiver's endpoint, the buffer off, state in a temp
 * directory, and only the four families of this test suite (cpu, memory, load, system).
 */
export function agentConfig(o: AgentConfigOptions): Record<string, unknown> {
  return {
    telemetryflow: {
      endpoint: o.endpoint,
      protocol: o.protocol,
      api_key_id: o.apiKeyId ?? 'tfk_e2e_key',
      api_key_secret: o.apiKeySecret ?? 'tfs_e2e_secret_value',
      tls: o.tls ?? { enabled: false },
      timeout: '5s',
    },
    agent: { name: o.agentName ?? 'e2e agent', tags: { environment: 'e2e', team: 'platform' }, data_dir: join(o.dataDir, 'state'), shutdown_timeout: o.shutdownTimeout ?? '10s' },
    heartbeat: { enabled: false },
    collectors: {
      system: {
        enabled: true,
        interval: o.interval ?? '60s',
        cpu: true,
        memory: true,
        load: true,
        system: true,
        disk: false,
        network: false,
        paging: false,
        filesystem: false,
        processes: false,
        pressure: false,
        // Opt-in metrics whose values these tests check.
        metrics: { 'system.memory.limit': true, 'system.cpu.utilization': true },
      },
    },
    exporter: { otlp: { compression: o.compression ?? 'gzip', endpoint_version: o.endpointVersion ?? 'v2', headers: o.headers ?? {} } },
    buffer: { enabled: false, path: join(o.dataDir, 'buffer') },
    logging: { level: 'info', format: 'json' },
    health: o.health ?? { enabled: true, address: '127.0.0.1:0' },
  };
}

/**
 * Runs `body` with an agent started on `args`, then kills the agent (if a test left it running)
 * and closes `peer` (the receiver it exported to), whatever the outcome.
 */
export async function withAgent(args: string[], peer: { close(): Promise<void> }, body: (agent: AgentProcess) => Promise<void>): Promise<void> {
  const agent = new AgentProcess(args);
  try {
    await body(agent);
  } finally {
    await agent.kill();
    await peer.close();
  }
}
