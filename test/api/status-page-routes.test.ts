// The status page's routes over real HTTP: the page and its files without the token, under a
// Content-Security-Policy of the agent's own origin; /status from the agent's state, with the
// ring's new samples when asked `since`. Its live stream: status-page-stream.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalApi } from '../../internal/api/local-api';
import { PAGE_ASSETS, PAGE_CSP } from '../../internal/api/page';
import { SampleRing } from '../../internal/api/ring';
import type { Sample } from '../../internal/api/sample';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig } from '../../internal/config/types';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { HealthStatus } from '../../internal/health/server';
import { createLogger } from '../../internal/log/logger';
import { systemClock } from '../../internal/procfs/host';
import { backoffDelay, type BackoffPolicy } from '../../internal/retry/backoff';
import { apiGet } from '../support/api-client';
import { tempHostRoot } from '../support/host-root';
import { sampleAt } from '../support/samples';
import { until } from '../support/wait';

const dir = mkdtempSync(join(tmpdir(), 'tfo-status-page-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'page-token-0123456789';

describe('SampleRing.newerThan', () => {
  const ring = new SampleRing(4);
  for (const ts of [10, 11, 12, 13, 14, 15]) ring.push(sampleAt(ts));

  it('answers the samples after `since`, oldest first, from what the ring still holds', () => {
    assert.deepEqual(ring.newerThan(13).map((s) => s.ts_unix), [14, 15]);
    assert.deepEqual(ring.newerThan(12.5).map((s) => s.ts_unix), [13, 14, 15]);
    assert.deepEqual(ring.newerThan(0).map((s) => s.ts_unix), [12, 13, 14, 15]);
    assert.deepEqual(ring.newerThan(15), []);
    assert.deepEqual(new SampleRing(3).newerThan(0), []);
  });
});

describe('the page and /status on the API listener', () => {
  const host = tempHostRoot('procfs/vm-6.18-2cpu');
  after(() => host.remove());
  const health = new HealthStatus(systemClock, 'agent-0001', '9.9.9');
  const accounting = new ExportAccounting();
  let api: LocalApi;
  const get = (path: string, token?: string) => apiGet(api.url + path, { token });

  before(async () => {
    const base = defaultConfig();
    const config: AgentConfig = {
      ...base,
      host_root: host.root,
      agent: { ...base.agent, hostname: 'page-host' },
      api: { ...base.api, enabled: true, address: '127.0.0.1:0', token: TOKEN, csv_dir: join(dir, 'csv'), collect_interval: 100 },
    };
    health.setExportSource(() => ({ at: Date.parse('2026-12-03T10:00:00Z'), ok: false, reason: 'connection_refused' }));
    health.addProvider('buffer', () => ({ backlog_batches: 3, backlog_points: 360, oldest_age_seconds: 42 }));
    health.addProvider('heartbeat', () => ({ enabled: true, sent: 4, failed: 1, lastAttemptAt: 1000, lastSuccessAt: 900, lastError: 'HTTP 503' }));
    accounting.recordProduced(1000);
    accounting.recordExportedLive(640);
    accounting.recordSpilled(360);
    accounting.recordReplayed(100);
    accounting.recordDropped('evicted_age', 20, true);
    const logger = createLogger({ level: 'error', format: 'json', destination: { write: () => true } as unknown as NodeJS.WritableStream });
    api = await LocalApi.start(config, {
      logger, clock: systemClock, env: {}, health, accounting,
      exportTarget: () => ({ protocol: 'grpc', target: 'grpc://127.0.0.1:4317' }),
    });
    await until('three samples', () => (api.ring.size >= 3 ? true : undefined));
  });
  after(() => api.stop());

  it('serves the page and every file of it without the token, each under the same-origin policy', async () => {
    for (const asset of PAGE_ASSETS) {
      const answer = await get(asset.path);
      assert.equal(answer.status, 200, `${asset.path}: ${answer.text}`);
      assert.equal(answer.headers['content-type'], asset.contentType);
      assert.equal(answer.headers['content-security-policy'], PAGE_CSP);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.ok(answer.text.length > 0);
    }
    assert.match(PAGE_CSP, /default-src 'none'/);
    for (const directive of PAGE_CSP.split('; ').filter((d) => d.startsWith('script-src') || d.startsWith('style-src') || d.startsWith('connect-src'))) {
      assert.equal(directive.split(' ').slice(1).join(' '), "'self'", directive);
    }
    const uplot = await get('/page/uPlot.min.js');
    assert.equal(uplot.text, readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
  });

  it('the page names no other origin: no CDN, no external font, no inline script or style', async () => {
    const html = (await get('/')).text;
    for (const path of ['/', '/page/page.js', '/page/page.css']) {
      const text = (await get(path)).text;
      assert.doesNotMatch(text, /(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i, `${path} names another origin`);
      assert.doesNotMatch(text, /@import|@font-face|url\(/i, `${path} loads a style or font resource`);
    }
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline <script>');
    assert.doesNotMatch(html, /<style\b|\sstyle=/i, 'inline style');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'inline event handler');
  });

  it("serves the agent's own backoff to the page: the same waits as the exporter's", async () => {
    const { runInNewContext } = await import('node:vm');
    const window: { tfoBackoffDelay?: (policy: BackoffPolicy, attempt: number) => number } = {};
    runInNewContext((await get('/page/backoff.js')).text, { window });
    for (const random of [0, 0.5, 0.999]) {
      const policy = { initialMs: 1000, maxMs: 30_000, random: () => random };
      for (const attempt of [1, 2, 3, 5, 6, 40]) assert.equal(window.tfoBackoffDelay!(policy, attempt), backoffDelay(policy, attempt));
    }
    assert.equal(window.tfoBackoffDelay!({ initialMs: 1000, maxMs: 30_000, random: () => 0 }, 6), 15_000);
  });

  it('answers 304 to a copy it already sent', async () => {
    const first = await get('/page/page.js');
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${api.url}/page/page.js`, { headers: { 'if-none-match': etag } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(status, 304);
  });

  it('/status needs the token', async () => {
    for (const token of [undefined, 'wrong-token']) assert.equal((await get('/status', token)).status, 401);
  });

  it('/status reads the agent: host, identity, export target and result, buffer, heartbeat, accounting', async () => {
    const answer = await get('/status', TOKEN);
    assert.equal(answer.status, 200, answer.text);
    const body = answer.json<Record<string, Record<string, unknown>>>();
    assert.equal(body.host!.hostname, 'page-host');
    assert.equal(body.host!.cpu_logical_cores, 2);
    assert.equal(typeof body.host!.memory_total_bytes, 'number');
    assert.deepEqual({ ...body.agent, uptime_s: undefined }, { id: 'agent-0001', version: body.agent!.version, status: 'starting', uptime_s: undefined });
    assert.deepEqual(body.api, { collect_interval_ms: 100, ring_size: 600, retention_days: 7, live_streams: 0 });
    assert.deepEqual(body.export, { protocol: 'grpc', target: 'grpc://127.0.0.1:4317', last: { at: '2026-12-03T10:00:00.000Z', ok: false, reason: 'connection_refused' } });
    assert.deepEqual(body.buffer, { backlog_batches: 3, backlog_points: 360, oldest_age_seconds: 42 });
    assert.equal(body.heartbeat!.lastError, 'HTTP 503');
    assert.deepEqual(body.accounting, { produced: 1000, exported: 640, spilled: 360, replayed: 100, dropped: 20, dropped_by_reason: { evicted_age: 20 }, in_backlog: 240 });
    assert.equal(accounting.unaccounted(), 0);
    assert.equal('samples' in body, false);
  });

  it('/status?since= adds exactly the ring samples newer than since', async () => {
    const all = (await get('/metrics/range?seconds=600', TOKEN)).json<Sample[]>();
    assert.ok(all.length >= 3);
    const pivot = all[all.length - 3]!.ts_unix;
    const answer = (await get(`/status?since=${pivot}`, TOKEN)).json<{ samples: Sample[] }>();
    assert.deepEqual(answer.samples.slice(0, 2), all.slice(-2));
    assert.ok(answer.samples.every((s) => s.ts_unix > pivot));
    const later = answer.samples[answer.samples.length - 1]!.ts_unix;
    assert.ok((await get(`/status?since=${later}`, TOKEN)).json<{ samples: Sample[] }>().samples.every((s) => s.ts_unix > later));
  });

  it('/status?since= that is not a time: 400 naming since', async () => {
    const answer = await get('/status?since=yesterday', TOKEN);
    assert.equal(answer.status, 400);
    assert.equal(answer.json().parameter, 'since');
  });
});
