// Shared pieces of the buffer tests: a temp buffer directory, a config, a logger whose lines
// the test can read, and the accounting identity.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig, BufferConfig } from '../../internal/config/types';
import type { ExportAccounting } from '../../internal/exporter/accounting';
import { createLogger, type Logger } from '../../internal/log/logger';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tfo-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `body` with a fresh temp directory, removed afterwards whatever happens. */
export async function withTempDir(prefix: string, body: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir(prefix);
  try {
    await body(dir);
  } finally {
    cleanup();
  }
}

export function bufferConfig(path: string, overrides: Partial<BufferConfig> = {}): BufferConfig {
  return { ...defaultConfig().buffer, path, ...overrides };
}

/** An agent config pointing at a receiver, with short intervals for tests. */
export function agentConfig(bufferPath: string, endpoint: string, protocol: 'grpc' | 'http'): AgentConfig {
  const config = defaultConfig();
  config.telemetryflow.endpoint = endpoint;
  config.telemetryflow.protocol = protocol;
  config.telemetryflow.tls.enabled = false;
  config.telemetryflow.timeout = 1000;
  config.telemetryflow.retry = { enabled: true, max_attempts: 1, initial_interval: 100, max_interval: 400 };
  config.exporter.otlp.endpoint_version = 'v1';
  config.buffer = bufferConfig(bufferPath, { flush_interval: 200, replay_rate: 0 });
  return config;
}

export interface CapturedLogger {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
  events: (event: string) => Array<Record<string, unknown>>;
}

export function capturedLogger(): CapturedLogger {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', format: 'json', destination });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, events: (event) => lines().filter((l) => l.event === event) };
}

/** produced + restored = exported live + replayed + in backlog + dropped, exactly. */
export function assertIdentity(accounting: ExportAccounting, backlogPoints?: number): void {
  assert.equal(accounting.unaccounted(), 0, `accounting does not reconcile: ${JSON.stringify(accounting.snapshot())}`);
  if (backlogPoints !== undefined) assert.equal(accounting.inBacklog, backlogPoints, 'in-backlog counter differs from the stored backlog');
}

/**
 * Mounts a tmpfs of `sizeMb` under a fresh temp directory for `body` (a file system the test can
 * fill for real); skips the test with the reason when it cannot mount one (not root).
 */
export async function withSmallFileSystem(t: { skip: (message: string) => void }, sizeMb: number, body: (mountpoint: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir('smallfs');
  const mountpoint = join(dir, 'small');
  mkdirSync(mountpoint);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', mountpoint], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    cleanup();
    t.skip(`cannot mount a small tmpfs to fill: ${(mounted.stderr ?? String(mounted.error)).trim()}`);
    return;
  }
  try {
    await body(mountpoint);
  } finally {
    spawnSync('umount', ['-l', mountpoint]);
    cleanup();
  }
}

/** Writes zeros to `file` until the file system is full. */
export function fillFileSystem(file: string): void {
  spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=4k'], { encoding: 'utf8' });
}

/** Polls a condition nothing can signal (the agent's own state). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
