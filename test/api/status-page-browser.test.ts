/// <reference lib="dom" />
// The status page as a person sees it: Debian's Chromium, headless, loads the page from the real
// agent process over HTTPS with a token, and the test reads the page's DOM and its uPlot chart
// objects. Screenshots go to tmp/artifacts/ (git-ignored) for a person to look at.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'puppeteer-core';
import { stringify } from 'yaml';
import { CSV_EOL, CSV_HEADER, dayFileName, formatRow } from '../../internal/api/csv';
import type { Sample } from '../../internal/api/sample';
import { agentConfig, AgentProcess, tempWorkspace } from '../e2e/agent-process';
import { apiGet } from '../support/api-client';
import { makeCertificate } from '../support/certs';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { REPO_ROOT } from '../support/paths';
import { sampleAt } from '../support/samples';
import { assertChartsShow, chartsAt, dataRequests, EXPECTED, openPage, pathOf, signIn, eventually, updates } from '../support/status-page';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'tmp', 'artifacts');
const TOKEN = 'page-browser-token-0123456789';

/** Three constant 30-minute blocks of history, one row every 30 s, hours before the test. */
function historyBlocks(now: number): Array<{ start: number; sample: (ts: number) => Sample }> {
  const first = Math.floor((now - 5 * 3600) / 1800) * 1800;
  return [0, 1, 2].map((b) => ({
    start: first + b * 1800,
    sample: (ts: number) => sampleAt(ts, {
      host: 'history-host', cpu_total: 20 + 25 * b, cpu_per_core: [15 + 25 * b, 25 + 25 * b], mem_percent: 31.5 + b, swap_percent: 1.25,
      load1: 1.5 + b, load5: 2, load15: 1, net_rx_bps: 1000 * (b + 1), net_tx_bps: 500 * (b + 1), disk_read_bps: 2048 * (b + 1),
      disk_write_bps: 4096 * (b + 1), root_fs_used_percent: 50.5 + b,
    }),
  }));
}

function writeHistory(csvDir: string, blocks: ReturnType<typeof historyBlocks>): void {
  mkdirSync(csvDir, { recursive: true });
  const files = new Map<string, string>();
  for (const block of blocks) {
    for (let ts = block.start; ts < block.start + 1800; ts += 30) {
      const name = dayFileName(ts * 1000);
      files.set(name, (files.get(name) ?? CSV_HEADER + CSV_EOL) + formatRow(block.sample(ts)));
    }
  }
  for (const [name, text] of files) writeFileSync(join(csvDir, name), text);
}

describe('the status page in headless Chromium', { skip: !existsSync(CHROMIUM) && `${CHROMIUM} not found: install Debian's chromium package (.ci/run does) to run the status page test` }, () => {
  const workspace = tempWorkspace('tfo-page-browser-');
  const blocks = historyBlocks(Date.now() / 1000);
  let receiver: OtlpReceiver;
  let agent: AgentProcess;
  let browser: Browser;
  let origin = '';
  let ca: Buffer;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const cert = makeCertificate(workspace.dir, 'page');
    ca = cert.pem;
    receiver = await startOtlpReceiver();
    const csvDir = join(workspace.dir, 'csv');
    writeHistory(csvDir, blocks);
    const config = {
      ...agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: workspace.dir, interval: '2s' }),
      buffer: { enabled: true, path: join(workspace.dir, 'buffer') },
      api: { enabled: true, address: '127.0.0.1:0', token: TOKEN, tls: { cert_file: cert.certFile, key_file: cert.keyFile }, collect_interval: '1s', csv_dir: csvDir },
    };
    agent = new AgentProcess(['start', '--config', workspace.file('agent.yaml', stringify(config))]);
    const listening = await agent.waitForEvent('api.listening');
    origin = `https://${String(listening.address)}`;
    await receiver.waitFor((r) => r.accepted().length > 0, 15_000);
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // The agent's certificate is the test's own, trusted by no system store.
      acceptInsecureCerts: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(workspace.dir, 'chromium')}`],
    });
  });

  after(async () => {
    await browser?.close();
    await agent?.kill();
    await receiver?.close();
    workspace.cleanup();
  });

  let live: Awaited<ReturnType<typeof openPage>>;
  /** The streams the agent has open, as /status says. */
  const liveStreams = async (): Promise<number> => (await apiGet(`${origin}/status`, { token: TOKEN, ca })).json<{ api: { live_streams: number } }>().api.live_streams;

  it('asks for the token once, then updates the charts with the values /metrics/latest answers', async () => {
    live = await openPage(browser, origin);
    const { page, requests } = live;
    await signIn(page, origin, TOKEN);
    const latest = (await apiGet(`${origin}/metrics/latest`, { token: TOKEN, ca })).json<Sample>();
    await assertChartsShow(page, latest);
    assert.ok(latest.cpu_per_core.length > 0 && typeof latest.cpu_total === 'number' && typeof latest.mem_percent === 'number');
    assert.equal(await page.$$eval('figure.chart canvas', (canvases) => canvases.length), Object.keys(EXPECTED).length);

    // The header: what /status says, as text a person reads.
    const status = (await apiGet(`${origin}/status`, { token: TOKEN, ca })).json<{ host: { hostname: string }; agent: { id: string } }>();
    const text = (id: string) => page.$eval(`#${id}`, (el) => el.textContent ?? '');
    assert.equal(await text('hostname'), status.host.hostname);
    assert.equal(await text('fact-agent-id'), status.agent.id);
    assert.match(await text('fact-export'), new RegExp(`grpc://${receiver.grpcAddress.replace(/\./g, '\\.')} · delivered`));
    assert.match(await text('fact-buffer'), /^empty/);
    assert.match(await text('fact-heartbeat'), /^off$/);
    assert.match(await text('fact-cpu'), /\d+ logical/);
    assert.match(await text('fact-memory'), /iB total$/);
    assert.ok(Number((await text('count-exported')).replace(/,/g, '')) > 0);
    assert.equal(await text('count-dropped'), '0');

    // The updates come over one stream: after the load (the token probe, then /status), the only
    // data request is that one, still open on the agent, while the charts keep updating.
    const shown = await updates(page);
    await page.waitForFunction((n: number) => Number(document.body.dataset.updates) >= n + 2, { timeout: 10_000 }, shown);
    assert.deepEqual(dataRequests(requests), ['/status', '/status', '/status/stream']);
    assert.match(requests.find((r) => pathOf(r.url).startsWith('/status/stream'))!.url, /\/status\/stream\?since=\d+(\.\d+)?$/);
    assert.equal(await liveStreams(), 1);
    assert.equal(await page.$eval('#feed', (el) => el.textContent), 'live');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-laptop.png'), fullPage: true });
  });

  it('sent the token only as a bearer header to the agent, kept it in sessionStorage, and asks once per tab', async () => {
    const { page, requests, foreign, errors } = live;
    assert.deepEqual(foreign, []);
    assert.ok(requests.every((r) => new URL(r.url).origin === origin));
    assert.ok(requests.every((r) => !r.url.includes(TOKEN)));
    const data = requests.filter((r) => /^\/(status|metrics)/.test(pathOf(r.url)));
    assert.ok(data.length >= 3);
    // The first /status is the probe that finds the token missing; every one after carries it.
    assert.ok(data.slice(1).every((r) => r.authorization === `Bearer ${TOKEN}`));
    assert.ok(requests.filter((r) => !/^\/(status|metrics)/.test(pathOf(r.url))).every((r) => r.authorization === undefined), 'the page files are fetched without the token');
    assert.deepEqual(await page.cookies(), []);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tfo-agent.api-token')), TOKEN);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), []);
    assert.deepEqual(errors, []);

    await page.reload();
    await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1, { timeout: 15_000 });
    assert.equal(await page.$eval('#auth', (el) => (el as HTMLElement).hidden), true);
  });

  it('draws the 24 h view from the CSV history, in one request with a step; 7 d likewise', async () => {
    const { page, requests } = live;
    for (const [range, step, screenshot] of [['24h', 120, 'status-page-24h.png'], ['7d', 900, '']] as const) {
      const before = requests.length;
      await page.click(`[data-range="${range}"]`);
      await page.waitForFunction((want: string) => {
        const state = (window as unknown as { tfoStatusPage: { state: { range: string; loaded: boolean } } }).tfoStatusPage.state;
        return state.range === want && state.loaded;
      }, { timeout: 20_000 }, range);
      const ranged = requests.slice(before).filter((r) => pathOf(r.url).startsWith('/metrics/range'));
      assert.deepEqual(ranged.map((r) => pathOf(r.url)), [`/metrics/range?seconds=${range === '24h' ? 86_400 : 7 * 86_400}&step=${step}s`]);
      for (const block of blocks) {
        for (let bucket = block.start; bucket < block.start + 1800; bucket += step) {
          const charts = await chartsAt(page, bucket);
          for (const [id, expected] of Object.entries(EXPECTED)) {
            assert.deepEqual(charts[id]!.values, expected(block.sample(bucket)), `${range} ${id} at ${new Date(bucket * 1000).toISOString()}`);
          }
        }
      }
      if (screenshot) await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
    }
    await page.click('[data-range="10m"]');
    await page.waitForFunction(() => (window as unknown as { tfoStatusPage: { state: { range: string; loaded: boolean } } }).tfoStatusPage.state.loaded);
  });

  it('closes the stream while the tab is hidden, and reopens it from the newest sample when shown, without a gap', async () => {
    const { page, requests } = live;
    const other = await browser.newPage();
    await other.bringToFront();
    await page.waitForFunction(() => document.hidden, { timeout: 5_000 });
    const newest = await page.evaluate(() => (window as unknown as { tfoStatusPage: { state: { newest: number } } }).tfoStatusPage.state.newest);
    await eventually('the agent has no stream open', async () => (await liveStreams()) === 0);
    assert.equal(await page.$eval('#feed', (el) => el.textContent), 'paused');
    const before = requests.length;
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    assert.deepEqual(requests.slice(before).map((r) => pathOf(r.url)), []);
    await page.bringToFront();
    await other.close();
    const shown = await updates(page);
    await page.waitForFunction((n: number) => Number(document.body.dataset.updates) > n, { timeout: 10_000 }, shown);
    assert.deepEqual(requests.slice(before).map((r) => pathOf(r.url)), [`/status/stream?since=${newest}`]);
    await eventually('the stream open again', async () => (await liveStreams()) === 1);
    // The samples taken while hidden are on the charts: every one the agent has since then, once.
    const onChart = await page.evaluate(() => (window as unknown as { tfoStatusPage: { state: { points: Array<{ ts_unix: number }> } } }).tfoStatusPage.state.points.map((p) => p.ts_unix));
    const last = onChart[onChart.length - 1]!;
    const agentHas = (await apiGet(`${origin}/metrics/range?seconds=600`, { token: TOKEN, ca })).json<Sample[]>().map((s) => s.ts_unix).filter((ts) => ts >= onChart[0]! && ts <= last);
    assert.deepEqual(onChart, agentHas);
    // Hidden 3.5 s at a 1 s interval: at least 3 samples after the newest one it had, whatever the phase.
    assert.ok(onChart.filter((ts) => ts > newest).length >= 3, `the samples of the hidden seconds: ${onChart.filter((ts) => ts > newest).join(' ')}`);
  });

  it('looks right on a phone in dark mode', async () => {
    const { page } = live;
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    const shown = await updates(page);
    await page.waitForFunction((n: number) => Number(document.body.dataset.updates) > n, { timeout: 10_000 }, shown);
    // No horizontal scrolling: every chart fits the narrow screen.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(background, 'rgb(246, 247, 249)', 'the dark palette is in use');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone-dark.png'), fullPage: true });
  });

  it('without the token shows the prompt; with a wrong one says 401; no chart data is fetched', async () => {
    const { page, requests, foreign } = await openPage(browser, origin, { incognito: true });
    await page.goto(`${origin}/`);
    await page.waitForSelector('#auth:not([hidden])');
    assert.equal(await page.$eval('#auth-message', (el) => (el as HTMLElement).dataset.kind), 'ask');
    assert.match(await page.$eval('#auth-message', (el) => el.textContent ?? ''), /API token/);

    await page.type('#auth-token', 'not-the-token');
    await page.click('#auth-form button');
    await page.waitForSelector('#auth-message[data-kind="refused"]');
    assert.match(await page.$eval('#auth-message', (el) => el.textContent ?? ''), /401/);
    assert.equal(await page.$eval('#auth', (el) => (el as HTMLElement).hidden), false);
    assert.equal(await page.$eval('main', (el) => getComputedStyle(el).display), 'none');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-401.png'), fullPage: true });

    const paths = requests.map((r) => pathOf(r.url));
    assert.deepEqual(paths.filter((p) => p.startsWith('/metrics')), []);
    assert.deepEqual(paths.filter((p) => p.startsWith('/status')), ['/status', '/status']);
    assert.deepEqual(requests.filter((r) => r.authorization !== undefined).map((r) => r.authorization), ['Bearer not-the-token']);
    assert.ok(await page.evaluate(() => Object.values((window as unknown as { tfoStatusPage: { charts(): Record<string, { data: unknown[][] }> } }).tfoStatusPage.charts()).every((u) => u === undefined || u.data[0]!.length === 0)));
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.deepEqual(foreign, []);
    await page.browserContext().close();
  });

  it('says in its header when the live feed is down, and keeps retrying', async () => {
    const { page } = live;
    await page.waitForFunction(() => document.body.dataset.feed === 'live', { timeout: 10_000 });
    await agent.kill();
    await page.waitForFunction(() => document.body.dataset.feed === 'down', { timeout: 10_000 });
    assert.equal(await page.$eval('#feed', (el) => el.textContent), 'live feed down');
    assert.match(await page.$eval('#message', (el) => el.textContent ?? ''), /^Live feed down: .* · retrying in \d+ s$/);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-feed-down.png'), fullPage: true });
  });
});
