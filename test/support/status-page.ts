/// <reference lib="dom" />
// The status page as a browser shows it, read through puppeteer-core (Chromium over CDP, Firefox
// over WebDriver BiDi): what each chart must draw, the charts' points read from the page's uPlot
// objects, and a page whose every request is logged and, when it leaves the agent, refused.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'puppeteer-core';
import type { Sample } from '../../internal/api/sample';

/** What each chart of the page must draw, per series, from one sample. */
export const EXPECTED: Record<string, (s: Sample) => Array<number | null>> = {
  cpu: (s) => [s.cpu_total],
  cores: (s) => s.cpu_per_core,
  memory: (s) => [s.mem_percent, s.swap_percent],
  load: (s) => [s.load1, s.load5, s.load15],
  network: (s) => [s.net_rx_bps, s.net_tx_bps],
  disk: (s) => [s.disk_read_bps, s.disk_write_bps],
  rootfs: (s) => [s.root_fs_used_percent],
};

export interface ChartAt {
  points: number;
  labels: string[];
  /** The series' values at the asked time; null when the chart has no point there. */
  values: Array<number | null> | null;
}

/** Every chart's point at `ts` (unix seconds), read from the uPlot objects in the page. */
export function chartsAt(page: Page, ts: number): Promise<Record<string, ChartAt>> {
  return page.evaluate((at: number) => {
    type Plot = { data: Array<Array<number | null>>; series: Array<{ label?: string }> };
    const charts = (window as unknown as { tfoStatusPage: { charts(): Record<string, Plot> } }).tfoStatusPage.charts();
    const out: Record<string, { points: number; labels: string[]; values: Array<number | null> | null }> = {};
    for (const [id, plot] of Object.entries(charts)) {
      const index = plot.data[0]!.indexOf(at);
      out[id] = { points: plot.data[0]!.length, labels: plot.series.slice(1).map((s) => String(s.label)), values: index < 0 ? null : plot.data.slice(1).map((column) => column[index]!) };
    }
    return out;
  }, ts);
}

export interface LoggedRequest {
  url: string;
  authorization?: string;
}

/** A page whose every request is logged and, when it is for another origin, refused. */
export async function openPage(browser: Browser, origin: string, options: { incognito?: boolean } = {}): Promise<{ page: Page; requests: LoggedRequest[]; foreign: string[]; errors: string[] }> {
  const context = options.incognito ? await browser.createBrowserContext() : browser.defaultBrowserContext();
  const page = await context.newPage();
  const requests: LoggedRequest[] = [];
  const foreign: string[] = [];
  const errors: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    requests.push({ url, authorization: request.headers().authorization });
    if (new URL(url).origin !== origin) {
      foreign.push(url);
      void request.abort();
    } else void request.continue();
  });
  page.on('pageerror', (err) => errors.push(`page error: ${String(err)}`));
  page.on('console', (message) => {
    // The browser reports the 401 of the token probe as a failed resource; the page handles it.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  // Injected by the test, not by the page: any Content-Security-Policy violation is recorded.
  await page.evaluateOnNewDocument(() => {
    const violations: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  await page.setViewport({ width: 1366, height: 900 });
  return { page, requests, foreign, errors };
}

export const pathOf = (url: string): string => {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
};

/** The paths of the data requests (everything but the page's own files), in order. */
export const dataRequests = (requests: readonly LoggedRequest[]): string[] =>
  requests.map((r) => pathOf(r.url)).filter((path) => /^\/(status|metrics)/.test(path)).map((path) => path.split('?')[0]!);

/** Asks `check` every 100 ms until it holds; rejects naming `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function updates(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.body.dataset.updates ?? 0));
}

/** Opens the page, answers its token prompt, and waits for the load and two updates. */
export async function signIn(page: Page, origin: string, token: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.waitForSelector('#auth:not([hidden])');
  await page.type('#auth-token', token);
  await page.click('#auth-form button');
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 3, { timeout: 20_000 });
}

/**
 * Every chart has at least three points and, at `latest`'s time, exactly its values. The page may
 * be one interval behind the agent, so this waits for it to have polled that sample first.
 */
export async function assertChartsShow(page: Page, latest: Sample): Promise<void> {
  await page.waitForFunction((ts: number) => (window as unknown as { tfoStatusPage: { state: { newest?: number } } }).tfoStatusPage.state.newest! >= ts, { timeout: 10_000 }, latest.ts_unix);
  const charts = await chartsAt(page, latest.ts_unix);
  assert.deepEqual(Object.keys(charts).sort(), Object.keys(EXPECTED).sort());
  for (const [id, expected] of Object.entries(EXPECTED)) {
    const chart = charts[id]!;
    assert.ok(chart.points >= 3, `${id}: ${chart.points} points`);
    assert.deepEqual(chart.values, expected(latest), `${id} (${chart.labels.join(', ')}) at ${latest.ts_iso}`);
  }
}
