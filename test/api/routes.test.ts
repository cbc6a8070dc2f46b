// Every route of the local API over real HTTP and HTTPS, fed by the real sampler reading a host
// root the test controls, and CSV history the test writes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CSV_HEADER, DAY_MS, dayFileName, formatRow, partialSummaryFileName, summaryFileName } from '../../internal/api/csv';
import { LocalApi } from '../../internal/api/local-api';
import type { Bucket } from '../../internal/api/range';
import type { Sample } from '../../internal/api/sample';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig, ApiConfig } from '../../internal/config/types';
import { HealthStatus } from '../../internal/health/server';
import { systemClock } from '../../internal/procfs/host';
import { apiGet, type ApiRequestOptions } from '../support/api-client';
import { makeCertificate } from '../support/certs';
import { tempHostRoot } from '../support/host-root';
import { logCapture } from '../support/log-capture';
import { sampleAt } from '../support/samples';
import { until } from '../support/wait';

const dir = mkdtempSync(join(tmpdir(), 'tfo-api-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'route-token-0123456789';

function config(csvDir: string, api: Partial<ApiConfig>, hostRoot: string): AgentConfig {
  const base = defaultConfig();
  return { ...base, host_root: hostRoot, agent: { ...base.agent, hostname: 'api-test-host' }, api: { ...base.api, enabled: true, address: '127.0.0.1:0', csv_dir: csvDir, ...api } };
}


const PATHS = ['/inventory', '/metrics/latest', '/metrics/range?seconds=5'];

for (const scheme of ['http', 'https'] as const) {
  describe(`every route over ${scheme}`, () => {
    const cert = scheme === 'https' ? makeCertificate(dir, `routes-${scheme}`) : undefined;
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    after(() => host.remove());
    let api: LocalApi;
    const get = (path: string, options: ApiRequestOptions = {}) => apiGet(api.url + path, { ca: cert?.pem, ...options });
    before(async () => {
      const tls = cert ? { cert_file: cert.certFile, key_file: cert.keyFile } : { cert_file: '', key_file: '' };
      api = await LocalApi.start(config(join(dir, `csv-${scheme}`), { token: TOKEN, tls, collect_interval: 100 }, host.root), { logger: logCapture().logger, clock: systemClock, env: {} });
      await until('a first sample', () => api.ring.latest());
    });
    after(() => api.stop());

    it('/health needs no token', async () => {
      const answer = await get('/health');
      assert.equal(answer.status, 200);
      assert.equal(answer.json().host, 'api-test-host');
    });

    for (const path of PATHS) {
      it(`${path}: 401 without a token, with a wrong one, with one of another length; 200 with the right one`, async () => {
        for (const options of [{}, { token: TOKEN.replace('0', '9') }, { token: 'x' }, { token: TOKEN + TOKEN }]) {
          const answer = await get(path, options);
          assert.equal(answer.status, 401, `${path} ${JSON.stringify(options)}`);
          assert.match(String(answer.headers['www-authenticate']), /^Bearer /);
        }
        const answer = await get(path, { token: TOKEN });
        assert.equal(answer.status, 200, answer.text);
        assert.match(String(answer.headers['content-type']), /^application\/json/);
      });
    }
  });
}

describe('answers', () => {
  const host = tempHostRoot('procfs/vm-6.18-2cpu');
  after(() => host.remove());
  const csvDir = join(dir, 'csv-answers');
  let api: LocalApi;
  const logs = logCapture();
  const now = Date.now() / 1000;
  // History the test writes: two earlier days with a torn row, and a foreign header; and the
  // minutes before start today, one row every 2 s.
  const days = [3, 2, 1].map((back) => Math.floor((Date.now() - back * DAY_MS) / DAY_MS) * DAY_MS);
  const written: number[] = [];

  before(async () => {
    mkdirSync(csvDir, { recursive: true });
    for (const [index, day] of days.entries()) {
      let text = index === 1 ? 'ts_unix,host,cpu_total,gpu_temp\r\n' : CSV_HEADER + '\r\n';
      for (let minute = 0; minute < 24 * 60; minute += 10) {
        const ts = day / 1000 + minute * 60;
        written.push(ts);
        text += index === 1 ? `${ts},older-version,${minute % 100},70\r\n` : formatRow(sampleAt(ts, { cpu_total: minute % 100 }));
        if (index === 0 && minute === 600) text += formatRow(sampleAt(ts + 1)).slice(0, 50) + '\r\n';
      }
      writeFileSync(join(csvDir, dayFileName(day)), text);
    }
    let today = CSV_HEADER + '\r\n';
    for (let ts = Math.floor(now) - 300; ts < now - 10; ts += 2) {
      written.push(ts);
      today += formatRow(sampleAt(ts));
    }
    writeFileSync(join(csvDir, dayFileName(Date.now())), today);
    api = await LocalApi.start(config(csvDir, { ring_size: 5, collect_interval: 100 }, host.root), { logger: logs.logger, clock: systemClock, env: {} });
    // The ring holds 5: once 8 samples were taken, its oldest is younger than the first sample,
    // which is then served from the CSV file.
    await until('the ring wrapped', () => (readFileSync(join(csvDir, dayFileName(Date.now())), 'utf8').split('\n').length > 150 + 8 ? true : undefined));
    await until('the past days summarised', () => (api.history.summarizing ? undefined : true));
  });
  after(() => api.stop());

  it('/metrics/latest is the newest sample, with every field of the contract', async () => {
    const latest = (await apiGet(`${api.url}/metrics/latest`)).json<Sample>();
    assert.deepEqual(Object.keys(latest).sort(), [
      'cpu_per_core', 'cpu_total', 'disk_read_bps', 'disk_write_bps', 'freq_mhz', 'host', 'load1', 'load15', 'load5', 'mem_percent', 'mem_total', 'mem_used',
      'net_rx_bps', 'net_tx_bps', 'root_fs_used_percent', 'swap_percent', 'swap_total', 'swap_used', 'ts_iso', 'ts_unix',
    ]);
    assert.ok(Math.abs(latest.ts_unix - Date.now() / 1000) < 5);
    assert.equal(latest.ts_iso, new Date(latest.ts_unix * 1000).toISOString());
    assert.equal(latest.host, 'api-test-host');
  });

  it('CPU shares over the interval between two samples, per logical CPU', async () => {
    // Each CPU line gains 50 user and 50 idle ticks: 50% busy, both CPUs.
    const stat = readFileSync(join(host.root, 'proc/stat'), 'utf8').replace(/^(cpu\d*)\s+(\d+) (\d+) (\d+) (\d+)/gm, (_m, name: string, user: string, nice: string, system: string, idle: string) => {
      const ticks = name === 'cpu' ? 100 : 50;
      return `${name}  ${Number(user) + ticks} ${nice} ${system} ${Number(idle) + ticks}`;
    });
    const since = Date.now() / 1000;
    host.write('/proc/stat', stat);
    const busy = await until('a sample over the change', () => api.ring.between(since, Infinity).find((s) => s.cpu_total !== null));
    assert.equal(busy.cpu_total, 50);
    assert.deepEqual(busy.cpu_per_core, [50, 50], 'one entry per logical CPU of the host root');
  });

  it('a range spanning the CSV history and the ring: oldest first, no gap, no duplicate', async () => {
    const samples = (await apiGet(`${api.url}/metrics/range?seconds=400`)).json<Sample[]>();
    const times = samples.map((s) => s.ts_unix);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
    assert.equal(new Set(times).size, times.length, 'no duplicate');
    // Everything the file holds in the range (test rows and the sampler's) is there, once.
    const fileTimes = readFileSync(join(csvDir, dayFileName(Date.now())), 'utf8').split('\r\n').slice(1).filter(Boolean).map((row) => Number(row.split(',')[0]));
    const inRange = fileTimes.filter((ts) => ts >= times[0]! && ts <= times.at(-1)!);
    assert.deepEqual(times.slice(0, inRange.length), inRange.slice(0, inRange.length));
    // The sampler goes on while the answer travels: the ring as far as the answer reaches.
    const ringTimes = api.ring.between(0, times.at(-1)!).map((s) => s.ts_unix);
    assert.deepEqual(times.slice(-ringTimes.length), ringTimes, 'ends with the ring');
    assert.ok(times[0]! <= now - 298, 'reaches into the CSV rows written before start');
    assert.ok(fileTimes.filter((ts) => ts > times[0]!).every((ts) => times.includes(ts) || ts > times.at(-1)!), 'no gap');
  });

  it('a range over several days of CSV files, step buckets; a torn row and a foreign header are read around', async () => {
    const from = days[0]! / 1000;
    const to = days[2]! / 1000 + 86_400 - 1;
    const answer = await apiGet(`${api.url}/metrics/range?from=${from}&to=${new Date(to * 1000).toISOString()}&step=3600s`);
    assert.equal(answer.status, 200, answer.text);
    const buckets = answer.json<Bucket[]>();
    assert.equal(api.history.reads.summaries, 3, 'the three past days from their summaries');
    assert.equal(buckets.length, 72, 'three days of hours');
    assert.ok(buckets.every((b) => b.samples === 6), 'six rows an hour, the torn one not among them');
    const foreign = buckets.slice(24, 48);
    assert.ok(foreign.every((b) => b.host === 'older-version' && b.mem_total === null && b.cpu_total !== null), 'the foreign file is read by column name');
    const hour10 = buckets[10]!;
    assert.equal(hour10.ts_unix, from + 10 * 3600);
    // minutes 600..650 step 10 → cpu_total 0,10,20,30,40,50 (minute % 100)
    assert.deepEqual([hour10.cpu_total, hour10.cpu_total_max], [25, 50]);
  });

  it('a raw range across a midnight, and Accept: text/csv', async () => {
    const midnight = days[2]! / 1000;
    const answer = await apiGet(`${api.url}/metrics/range?from=${midnight - 1800}&to=${midnight + 1799}`, { accept: 'text/csv' });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^text\/csv/);
    const lines = answer.text.split('\r\n').filter(Boolean);
    assert.equal(lines[0], CSV_HEADER);
    assert.deepEqual(lines.slice(1).map((l) => Number(l.split(',')[0])), written.filter((ts) => ts >= midnight - 1800 && ts <= midnight + 1799));
    assert.equal(lines.slice(1).filter((l) => l.includes('older-version')).length, 3, 'rows of the file before midnight, in this layout');
  });

  it('400 names the parameter; a long range without a step asks for one', async () => {
    for (const [query, parameter] of [['seconds=0', 'seconds'], ['seconds=abc', 'seconds'], [`seconds=${8 * 86_400}`, 'seconds'], ['from=tomorrow', 'from'], ['seconds=60&step=0', 'step'], [`seconds=${2 * 86_400}`, 'step']]) {
      const answer = await apiGet(`${api.url}/metrics/range?${query}`);
      assert.equal(answer.status, 400, query);
      const body = answer.json<{ error: string; parameter: string }>();
      assert.equal(body.parameter, parameter, query);
      assert.match(body.error, new RegExp(`^${parameter}: `), query);
    }
  });

  it('/inventory: the host root\'s facts, absent rather than invented', async () => {
    const inventory = (await apiGet(`${api.url}/inventory`)).json();
    assert.equal(inventory.hostname, 'api-test-host');
    assert.equal(inventory.cpu_logical_cores, 2);
    const memTotal = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync(join(host.root, 'proc/meminfo'), 'utf8'))![1]) * 1024;
    assert.equal(inventory.memory_total_bytes, memTotal);
    for (const key of ['os_system', 'os_release', 'architecture', 'cpu_vendor', 'cpu_model', 'cpu_name', 'cpu_physical_cores']) assert.ok(key in inventory, key);
    // The fixture has no DMI and no cpufreq: those keys are absent.
    for (const key of ['manufacturer', 'model', 'serial', 'cpu_max_mhz']) assert.equal(key in inventory, false, key);
  });
});

describe('before the first sample', () => {
  it('/metrics/latest is 503 {"error":"No data yet"}', async () => {
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    after(() => host.remove());
    const api = await LocalApi.start(config(join(dir, 'csv-empty'), { collect_interval: 3_600_000 }, host.root), { logger: logCapture().logger, clock: systemClock, env: {} });
    after(() => api.stop());
    const answer = await apiGet(`${api.url}/metrics/latest`);
    assert.equal(answer.status, 503);
    assert.deepEqual(answer.json(), { error: 'No data yet' });
  });
});

describe('retention', () => {
  it('deletes exactly the day files past api.retention_days at start, their summaries with them, one log line each', async () => {
    const csvDir = join(dir, 'csv-retention');
    mkdirSync(csvDir, { recursive: true });
    const day = (back: number) => dayFileName(Date.now() - back * DAY_MS);
    const names = [day(10), day(9), summaryFileName(day(9)), partialSummaryFileName(day(9)), day(8), `${summaryFileName(day(8))}.tmp`, day(7), day(1), day(0), 'metrics-notes.csv', 'metrics-notes.summary', 'keep.txt'];
    for (const name of names) writeFileSync(join(csvDir, name), CSV_HEADER + '\r\n');
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    after(() => host.remove());
    const logs = logCapture();
    const api = await LocalApi.start(config(csvDir, { retention_days: 7, collect_interval: 3_600_000 }, host.root), { logger: logs.logger, clock: systemClock, env: {} });
    after(() => api.stop());
    const deleted = logs.lines().filter((l) => l.event === 'api.csv_deleted').map((l) => String(l.file));
    assert.deepEqual(deleted.sort(), [day(10), day(9), summaryFileName(day(9)), partialSummaryFileName(day(9)), day(8), `${summaryFileName(day(8))}.tmp`].map((n) => join(csvDir, n)).sort());
    assert.equal(existsSync(join(csvDir, day(8))), false);
    // The past days kept get their summaries; today's file is still being written: its rows so far get a partial one.
    await until('summaries written', () => (api.history.summarizing ? undefined : true));
    const kept = [day(7), summaryFileName(day(7)), day(1), summaryFileName(day(1)), day(0), partialSummaryFileName(day(0)), 'metrics-notes.csv', 'metrics-notes.summary', 'keep.txt'];
    assert.deepEqual(readdirSync(csvDir).sort(), kept.sort());
  });

  it('runs again while the agent runs: a day file that expires later is deleted and logged', async () => {
    const csvDir = join(dir, 'csv-retention-periodic');
    mkdirSync(csvDir, { recursive: true });
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    after(() => host.remove());
    const logs = logCapture();
    const api = await LocalApi.start(config(csvDir, { retention_days: 7, collect_interval: 3_600_000 }, host.root), { logger: logs.logger, clock: systemClock, env: {}, pruneEveryMs: 100 });
    after(() => api.stop());
    // Written after the start pass: only the periodic pass can remove it.
    const expired = dayFileName(Date.now() - 8 * DAY_MS);
    const kept = dayFileName(Date.now() - 7 * DAY_MS);
    for (const name of [expired, kept]) writeFileSync(join(csvDir, name), CSV_HEADER + '\r\n');
    await until('the periodic pass deleted the expired file', () => (existsSync(join(csvDir, expired)) ? undefined : true), 5_000);
    assert.ok(existsSync(join(csvDir, kept)));
    assert.deepEqual(logs.lines().filter((l) => l.event === 'api.csv_deleted').map((l) => String(l.file)), [join(csvDir, expired)]);
  });
});

describe('daily summaries through the agent', () => {
  it('a corrupt summary: the step range is still right, and /health counts it under api', async () => {
    const csvDir = join(dir, 'csv-summary-health');
    mkdirSync(csvDir, { recursive: true });
    const day = Math.floor((Date.now() - DAY_MS) / DAY_MS) * DAY_MS;
    let text = CSV_HEADER + '\r\n';
    for (let minute = 0; minute < 24 * 60; minute += 5) text += formatRow(sampleAt(day / 1000 + minute * 60, { cpu_total: minute % 60 }));
    writeFileSync(join(csvDir, dayFileName(day)), text);
    writeFileSync(join(csvDir, summaryFileName(dayFileName(day))), 'not a summary\n');
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    after(() => host.remove());
    const health = new HealthStatus(systemClock, 'agent-1', '0.0.0');
    const logs = logCapture();
    const api = await LocalApi.start(config(csvDir, { collect_interval: 3_600_000 }, host.root), { logger: logs.logger, clock: systemClock, env: {}, health });
    after(() => api.stop());
    await until('the summary written again', () => (api.history.summarizing ? undefined : true));
    assert.deepEqual(logs.events().filter((e) => e.startsWith('api.csv_summ')), ['api.csv_summarized'], 'the start pass rewrites it');
    writeFileSync(join(csvDir, summaryFileName(dayFileName(day))), 'spoiled again\n');
    const answer = await apiGet(`${api.url}/metrics/range?from=${day / 1000}&to=${day / 1000 + 86_399}&step=3600s`);
    const buckets = answer.json<Bucket[]>();
    assert.equal(buckets.length, 24);
    assert.ok(buckets.every((b) => b.samples === 12 && b.cpu_total === 27.5 && b.cpu_total_max === 55), JSON.stringify(buckets[0]));
    assert.deepEqual((health.snapshot().api as Record<string, unknown>).csv_summaries_rejected, 1);
    assert.equal(logs.events().filter((e) => e === 'api.csv_summary_invalid').length, 1);
  });
});
