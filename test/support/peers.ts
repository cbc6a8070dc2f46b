import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath } from './tools';

// The real peers (Debian's prometheus-node-exporter and collectd), started on loopback with
// their own temp config and stopped by whoever started them.

export const NODE_EXPORTER = 'prometheus-node-exporter';
export const PROMETHEUS = 'prometheus';
export const PROMTOOL = 'promtool';
export const COLLECTD = 'collectd';

export const havePeer = (command: string): boolean => onPath(command);

// Below Linux's default ephemeral range (32768-60999): the ports the kernel hands to a bind on
// port 0 or an outgoing connection never come from here, so a port released by freePort is not
// taken by another test's listener or client before its user binds it.
const FREE_PORT_LOW = 20000;
const FREE_PORT_HIGH = 32767;

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free loopback TCP port, outside the ephemeral range (bound, then released). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = FREE_PORT_LOW + Math.floor(Math.random() * (FREE_PORT_HIGH - FREE_PORT_LOW + 1));
    if (await tryListen(port)) return port;
  }
  throw new Error(`no free loopback port in ${FREE_PORT_LOW}-${FREE_PORT_HIGH} after 100 tries`);
}

export interface RunningPeer {
  pid: number;
  /** Stops the process and removes its temp directory. */
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, dir?: string): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

export interface NodeExporter extends RunningPeer {
  url: string;
  /** One scrape of /metrics as text. */
  scrape(): Promise<string>;
}

/**
 * Starts node_exporter on a free loopback port. `collectors` given: only those (the rest are
 * disabled); omitted: its defaults. Resolves once /metrics answers.
 */
export async function startNodeExporter(collectors?: string[], extraArgs: string[] = []): Promise<NodeExporter> {
  const port = await freePort();
  const args = [`--web.listen-address=127.0.0.1:${port}`, ...extraArgs];
  if (collectors !== undefined) args.push('--collector.disable-defaults', ...collectors.map((c) => `--collector.${c}`));
  const child = spawn(NODE_EXPORTER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}/metrics`;
  const scrape = async (): Promise<string> => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`node_exporter ${url}: HTTP ${response.status}`);
    return response.text();
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node_exporter exited with ${child.exitCode}: ${stderr}`);
    try {
      await scrape();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stopChild(child);
        throw new Error(`node_exporter did not answer on ${url}: ${String(err)} ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { pid: child.pid ?? 0, url, scrape, stop: () => stopChild(child) };
}

/**
 * Starts collectd in the foreground with its own config in a temp dir: the given read plugins
 * at `intervalSeconds`, logging to stdout, no network or csv output.
 */
export async function startCollectd(plugins: string[], intervalSeconds = 1): Promise<RunningPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-collectd-'));
  const config = [
    'LoadPlugin logfile',
    '<Plugin logfile>',
    '  LogLevel "warning"',
    '  File STDOUT',
    '</Plugin>',
    'Hostname "bench"',
    'FQDNLookup false',
    `BaseDir "${dir}"`,
    `PIDFile "${join(dir, 'collectd.pid')}"`,
    `Interval ${intervalSeconds}`,
    'TypesDB "/usr/share/collectd/types.db"',
    ...plugins.map((plugin) => `LoadPlugin ${plugin}`),
  ].join('\n');
  const file = join(dir, 'collectd.conf');
  writeFileSync(file, config + '\n');
  const child = spawn(COLLECTD, ['-f', '-C', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  await new Promise((r) => setTimeout(r, 300));
  if (child.exitCode !== null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`collectd exited with ${child.exitCode} (config ${config})`);
  }
  return { pid: child.pid ?? 0, stop: () => stopChild(child, dir) };
}

export interface PrometheusServer extends RunningPeer {
  url: string;
  /** An instant query through the HTTP API: the result vector. */
  query(expression: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** /api/v1/targets' active targets. */
  targets(): Promise<Array<{ health: string; lastError: string; scrapeUrl: string }>>;
}

/**
 * Starts Prometheus on a free loopback port with its own temp storage, scraping one target
 * described by `scrape` (a scrape_configs entry, YAML text indented for the list). Resolves once
 * /-/ready answers.
 */
export async function startPrometheus(scrape: string): Promise<PrometheusServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tfo-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${scrape}`);
  const child = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stopChild(child, dir);
      throw new Error(`prometheus did not become ready on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    pid: child.pid ?? 0,
    url,
    query: async (expression) => (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expression)}`)).result,
    targets: async () => (await api<{ activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string }> }>('/api/v1/targets')).activeTargets,
    stop: () => stopChild(child, dir),
  };
}
