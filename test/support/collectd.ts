// A real collectd 5.12 sending to the agent (in process, exporting to a real OTLP receiver), and
// what the same collectd run wrote with its csv plugin, for tests to compare.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { Agent } from '../../internal/agent/agent';
import { loadConfig, type LoadOptions } from '../../internal/config/load';
import { createLogger } from '../../internal/log/logger';
import { agentConfig, cleanEnv } from '../e2e/agent-process';
import { startOtlpReceiver, type ReceivedPoint } from './otlp-receiver';
import { COLLECTD } from './peers';

export interface CollectdRun {
  name: string;
  server: string;
  port: number;
  /** The interface a multicast group is sent on. */
  iface?: string;
  security?: { level: 'Sign' | 'Encrypt'; password: string };
}

/**
 * A few 1 s intervals of collectd's load and memory plugins, sent to the server and written as csv
 * under `<dir>/<name>/csv`; returns that directory. -T would read once but run no write plugin.
 */
export function runCollectd(dir: string, run: CollectdRun): string {
  const base = join(dir, run.name);
  const csv = join(base, 'csv');
  const options = [
    run.security ? `SecurityLevel "${run.security.level}"\n    Username "alice"\n    Password "${run.security.password}"` : '',
    run.iface ? `Interface "${run.iface}"` : '',
  ].join('\n    ');
  const conf = [
    `Hostname "collectd-${run.name}"`, 'FQDNLookup false', `BaseDir "${base}"`, `PIDFile "${base}/collectd.pid"`, 'Interval 1',
    'LoadPlugin logfile', '<Plugin logfile>\n  File STDOUT\n</Plugin>',
    'LoadPlugin load', 'LoadPlugin memory', 'LoadPlugin csv', `<Plugin csv>\n  DataDir "${csv}"\n  StoreRates false\n</Plugin>`,
    '<LoadPlugin network>\n  FlushInterval 1\n</LoadPlugin>',
    `<Plugin network>\n  <Server "${run.server}" "${run.port}">\n    ${options}\n  </Server>\n</Plugin>`,
  ].join('\n') + '\n';
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'collectd.conf'), conf);
  const result = spawnSync(COLLECTD, ['-f', '-C', join(base, 'collectd.conf')], { encoding: 'utf8', timeout: 3500, killSignal: 'SIGTERM' });
  assert.ok(/Initialization complete/.test(result.stdout), result.stdout + result.stderr);
  return csv;
}

export interface CollectdServer {
  /** Where its csv plugin writes: `<csv>/<host>/<plugin-instance>/<type-instance>-DATE`. */
  csv: string;
  /** Stops collectd (SIGTERM) and resolves with what it logged. */
  stop(): Promise<string>;
}

/**
 * A real collectd listening on 127.0.0.1:`port` (network plugin, the given security level with an
 * auth file of user alice) and writing what it accepts with its csv plugin; no read plugins.
 */
export async function startCollectdServer(dir: string, name: string, port: number, security?: { level: 'None' | 'Sign' | 'Encrypt'; password: string }): Promise<CollectdServer> {
  const base = join(dir, name);
  const csv = join(base, 'csv');
  mkdirSync(base, { recursive: true });
  let listen = `Listen "127.0.0.1" "${port}"`;
  if (security !== undefined) {
    writeFileSync(join(base, 'auth'), `alice: ${security.password}\n`);
    listen = `<Listen "127.0.0.1" "${port}">\n    SecurityLevel "${security.level}"\n    AuthFile "${join(base, 'auth')}"\n  </Listen>`;
  }
  const conf = [
    `Hostname "collectd-server-${name}"`, 'FQDNLookup false', `BaseDir "${base}"`, `PIDFile "${base}/collectd.pid"`, 'Interval 1',
    'LoadPlugin logfile', '<Plugin logfile>\n  LogLevel "info"\n  File STDOUT\n</Plugin>',
    'LoadPlugin csv', `<Plugin csv>\n  DataDir "${csv}"\n  StoreRates false\n</Plugin>`,
    'LoadPlugin network', `<Plugin network>\n  ${listen}\n</Plugin>`,
  ].join('\n') + '\n';
  writeFileSync(join(base, 'collectd.conf'), conf);
  const child = spawn(COLLECTD, ['-f', '-C', join(base, 'collectd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 10_000;
  while (!/Initialization complete/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`collectd did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const stop = (): Promise<string> => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(output);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(output);
    });
    child.kill('SIGTERM');
  });
  return { csv, stop };
}

/** `plugin/type-DATE` csv files: a header `epoch,ds…` and rows `time,value…`. */
export function readCsv(csvDir: string, host: string, file: string): { names: string[]; rows: Array<{ time: number; values: number[] }> } {
  const dirOf = join(csvDir, host, file.split('/')[0]);
  const name = readdirSync(dirOf).find((f) => f.startsWith(`${file.split('/')[1]}-`));
  assert.ok(name, `${file} not written by collectd`);
  const [header, ...rows] = readFileSync(join(dirOf, name), 'utf8').trim().split('\n');
  return {
    names: header.split(',').slice(1),
    rows: rows.map((row) => {
      const [time, ...values] = row.split(',').map(Number);
      return { time, values };
    }),
  };
}

/** The agent with `receivers.collectd` as given, exporting over gRPC to a real receiver, around `body`. */
export function withCollectdAgent(dir: string, collectd: Record<string, unknown>, body: () => Promise<void>): Promise<{ points: ReceivedPoint[]; lines: string[] }> {
  return withAgent(dir, { receivers: { collectd: { enabled: true, ...collectd } } }, body);
}

/**
 * The agent in process with the test config plus `sections` (top-level keys replaced), exporting
 * over gRPC to a real receiver every 60 s (the first export 1 s after start, the last at stop), around `body`.
 */
export async function withAgent(dir: string, sections: Record<string, unknown>, body: () => Promise<void>): Promise<{ points: ReceivedPoint[]; lines: string[] }> {
  const receiver = await startOtlpReceiver();
  const file = join(dir, `agent-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify({ ...agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: dir, interval: '60s' }), ...sections }));
  const loadOptions: LoadOptions = { file, env: cleanEnv(), cwd: dir };
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const agent = new Agent({ loaded: loadConfig(loadOptions), loadOptions, logger: createLogger({ level: 'info', format: 'json', destination }), env: {} });
  try {
    try {
      await agent.start();
      await body();
    } finally {
      await agent.stop();
    }
    return { points: receiver.points(), lines };
  } finally {
    // Also when the agent failed: an open receiver would keep the test process alive.
    await receiver.close();
  }
}

/**
 * Every exported load and memory.used point of `host` is a row collectd wrote as csv in the same
 * run: the same time (to the csv's millisecond) and the same value; and there is at least one.
 */
export function assertExportMatchesCsv(points: readonly ReceivedPoint[], csv: string, host: string): void {
  const mine = points.filter((p) => p.resource['host.name'] === host);
  const check = (file: string, name: (ds: string) => string, attributes: (ds: string) => Record<string, string>): void => {
    const { names, rows } = readCsv(csv, host, file);
    for (const [i, ds] of names.entries()) {
      const exported = mine.filter((p) => p.name === name(ds));
      assert.ok(exported.length > 0, `${host}: ${name(ds)} exported`);
      for (const point of exported) {
        assert.equal(point.kind, 'gauge');
        assert.deepEqual(point.attributes, attributes(ds));
        const seconds = Number(point.timeUnixNano) / 1e9;
        const row = rows.find((r) => Math.abs(r.time - seconds) < 0.001);
        assert.ok(row, `${host} ${name(ds)} at ${seconds}: no csv row at that time (${rows.map((r) => r.time).join(', ')})`);
        assert.ok(Math.abs(point.value - row.values[i]) < 1e-6 * Math.max(1, Math.abs(row.values[i])), `${host} ${name(ds)}: ${point.value} vs csv ${row.values[i]}`);
      }
    }
  };
  check('load/load', (ds) => `load.${ds}`, (ds) => ({ plugin: 'load', dsname: ds }));
  check('memory/memory-used', () => 'memory.used', () => ({ plugin: 'memory', type_instance: 'used', dsname: 'value' }));
}
