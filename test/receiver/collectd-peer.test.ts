// A real collectd 5.12 sends to the agent (in process) over loopback; the agent exports to a real
// OTLP receiver. What arrives must equal what the same collectd run wrote with its csv plugin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { Agent } from '../../internal/agent/agent';
import { loadConfig, type LoadOptions } from '../../internal/config/load';
import { createLogger } from '../../internal/log/logger';
import { agentConfig, cleanEnv } from '../e2e/agent-process';
import { startOtlpReceiver, type ReceivedPoint } from '../support/otlp-receiver';
import { COLLECTD, freePort, havePeer } from '../support/peers';

const dir = mkdtempSync(join(tmpdir(), 'tfo-agent-collectd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  name: string;
  server: string;
  security?: { level: 'Sign' | 'Encrypt'; password: string };
}

/** One read of load and memory by a real collectd, sent to `server` and written as csv. */
function runCollectd(run: Run, port: number): string {
  const base = join(dir, run.name);
  const csv = join(base, 'csv');
  const security = run.security ? `SecurityLevel "${run.security.level}"\n    Username "alice"\n    Password "${run.security.password}"` : '';
  const conf = [
    `Hostname "collectd-${run.name}"`, 'FQDNLookup false', `BaseDir "${base}"`, `PIDFile "${base}/collectd.pid"`, 'Interval 1',
    'LoadPlugin logfile', '<Plugin logfile>\n  File STDOUT\n</Plugin>',
    'LoadPlugin load', 'LoadPlugin memory', 'LoadPlugin csv', `<Plugin csv>\n  DataDir "${csv}"\n  StoreRates false\n</Plugin>`,
    '<LoadPlugin network>\n  FlushInterval 1\n</LoadPlugin>',
    `<Plugin network>\n  <Server "${run.server}" "${port}">\n    ${security}\n  </Server>\n</Plugin>`,
  ].join('\n') + '\n';
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'collectd.conf'), conf);
  // In the foreground for a few of its 1 s intervals: -T reads once but runs no write plugin.
  const result = spawnSync(COLLECTD, ['-f', '-C', join(base, 'collectd.conf')], { encoding: 'utf8', timeout: 3500, killSignal: 'SIGTERM' });
  assert.ok(/Initialization complete/.test(result.stdout), result.stdout + result.stderr);
  return csv;
}

/** `plugin/type-DATE` csv files: a header `epoch,ds…` and rows `time,value…`. */
function readCsv(csvDir: string, host: string, file: string): { names: string[]; time: number; values: number[] } {
  const dirOf = join(csvDir, host, file.split('/')[0]);
  const name = readdirSync(dirOf).find((f) => f.startsWith(`${file.split('/')[1]}-`));
  assert.ok(name, `${file} not written by collectd`);
  const [header, row] = readFileSync(join(dirOf, name), 'utf8').trim().split('\n');
  const [time, ...values] = row.split(',').map(Number);
  return { names: header.split(',').slice(1), time, values };
}

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', format: 'json', destination }), lines };
}

async function withAgent(collectd: Record<string, unknown>, body: (agent: Agent) => Promise<void>): Promise<{ points: ReceivedPoint[]; lines: string[] }> {
  const receiver = await startOtlpReceiver();
  const file = join(dir, `agent-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify({ ...agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: dir, interval: '60s' }), receivers: { collectd: { enabled: true, ...collectd } } }));
  const loadOptions: LoadOptions = { file, env: cleanEnv(), cwd: dir };
  const { logger, lines } = capturingLogger();
  const agent = new Agent({ loaded: loadConfig(loadOptions), loadOptions, logger, env: {} });
  try {
    await agent.start();
    await body(agent);
  } finally {
    await agent.stop();
  }
  const points = receiver.points();
  await receiver.close();
  return { points, lines };
}

const skip = !havePeer(COLLECTD) && 'collectd is not installed (.ci/run installs collectd-core)';

describe('collectd 5.12 sending to the agent', { skip }, () => {
  it('plain over IPv4 and encrypted over IPv6: the exported values and times are collectd\'s own (its csv files)', async () => {
    const [v4, v6] = [await freePort(), await freePort()];
    const auth = join(dir, 'auth');
    writeFileSync(auth, 'alice: s3cret\n');
    let plainCsv = '';
    let encryptedCsv = '';
    const { points } = await withAgent({ listen: [`127.0.0.1:${v4}`, `[::1]:${v6}`], auth_file: auth }, async () => {
      plainCsv = runCollectd({ name: 'plain', server: '127.0.0.1' }, v4);
      encryptedCsv = runCollectd({ name: 'encrypted', server: '::1', security: { level: 'Encrypt', password: 's3cret' } }, v6);
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    for (const [host, csv] of [['collectd-plain', plainCsv], ['collectd-encrypted', encryptedCsv]]) {
      const mine = points.filter((p) => p.resource['host.name'] === host);
      const load = readCsv(csv, host, 'load/load');
      assert.deepEqual(load.names, ['shortterm', 'midterm', 'longterm']);
      for (const [i, ds] of load.names.entries()) {
        const point = mine.find((p) => p.name === `load.${ds}`);
        assert.ok(point, `${host}: load.${ds} exported`);
        assert.equal(point.kind, 'gauge');
        assert.deepEqual(point.attributes, { plugin: 'load', dsname: ds });
        assert.ok(Math.abs(point.value - load.values[i]) < 1e-6, `${host} load.${ds}: ${point.value} vs csv ${load.values[i]}`);
        assert.ok(Math.abs(Number(point.timeUnixNano) / 1e9 - load.time) < 0.001, `${host}: collectd's time ${load.time}, exported ${point.timeUnixNano}`);
      }
      const used = readCsv(csv, host, 'memory/memory-used');
      const usedPoint = mine.find((p) => p.name === 'memory.used');
      assert.deepEqual([usedPoint?.value, usedPoint?.attributes], [used.values[0], { plugin: 'memory', type_instance: 'used', dsname: 'value' }]);
    }
  });

  it('a wrong password: nothing accepted, the counter says why, the log names the sender and user, never a password', async () => {
    const port = await freePort();
    const auth = join(dir, 'auth-wrong');
    writeFileSync(auth, 'alice: the-receivers-password\n');
    const { points, lines } = await withAgent({ listen: [`127.0.0.1:${port}`], auth_file: auth, security_level: 'encrypt' }, async () => {
      runCollectd({ name: 'wrong', server: '127.0.0.1', security: { level: 'Encrypt', password: 'senders-guess' } }, port);
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    assert.equal(points.filter((p) => p.resource['host.name'] === 'collectd-wrong').length, 0);
    const dropped = points.filter((p) => p.name === 'tfo_agent.collectd.dropped');
    assert.ok(dropped.some((p) => p.attributes.reason === 'decryption_failed' && p.value > 0), JSON.stringify(dropped.map((p) => [p.attributes, p.value])) + lines.filter((l) => l.includes("collectd")).join("\n"));
    const failing = lines.filter((l) => l.includes('collectd.auth.failing'));
    assert.equal(failing.length, 1, 'logged once per streak');
    assert.match(failing[0], /"peer":"127\.0\.0\.1"/);
    assert.match(failing[0], /"user":"alice"/);
    assert.doesNotMatch(lines.join('\n'), /senders-guess|the-receivers-password/);
  });
});
