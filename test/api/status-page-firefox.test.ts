/// <reference lib="dom" />
// The status page in the other browser the issue names: Debian's Firefox ESR, headless, driven
// over WebDriver BiDi, loads the page from the real agent over HTTPS with a token, updates its
// charts with the agent's values, and refuses a wrong token. Screenshot to tmp/artifacts/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'puppeteer-core';
import { stringify } from 'yaml';
import type { Sample } from '../../internal/api/sample';
import { agentConfig, AgentProcess, tempWorkspace } from '../e2e/agent-process';
import { apiGet } from '../support/api-client';
import { makeCertificate } from '../support/certs';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { REPO_ROOT } from '../support/paths';
import { assertChartsShow, dataRequests, openPage, pathOf, signIn } from '../support/status-page';

const FIREFOX = '/usr/bin/firefox-esr';
const ARTIFACTS = join(REPO_ROOT, 'tmp', 'artifacts');
const TOKEN = 'page-firefox-token-0123456789';

describe('the status page in headless Firefox', { skip: !existsSync(FIREFOX) && `${FIREFOX} not found: install Debian's firefox-esr package (.ci/run does) to run the Firefox status page test` }, () => {
  const workspace = tempWorkspace('tfo-page-firefox-');
  let receiver: OtlpReceiver;
  let agent: AgentProcess;
  let browser: Browser;
  let origin = '';
  let ca: Buffer;

  before(async () => {
    const cert = makeCertificate(workspace.dir, 'page');
    ca = cert.pem;
    receiver = await startOtlpReceiver();
    const config = {
      ...agentConfig({ protocol: 'grpc', endpoint: receiver.grpcAddress, dataDir: workspace.dir, interval: '2s' }),
      api: { enabled: true, address: '127.0.0.1:0', token: TOKEN, tls: { cert_file: cert.certFile, key_file: cert.keyFile }, collect_interval: '1s', csv_dir: join(workspace.dir, 'csv') },
    };
    agent = new AgentProcess(['start', '--config', workspace.file('agent.yaml', stringify(config))]);
    origin = `https://${String((await agent.waitForEvent('api.listening')).address)}`;
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      // The agent's certificate is the test's own, trusted by no system store.
      acceptInsecureCerts: true,
      userDataDir: join(workspace.dir, 'firefox'),
    });
  });

  after(async () => {
    await browser?.close();
    await agent?.kill();
    await receiver?.close();
    workspace.cleanup();
  });

  it('asks for the token, then draws every chart with the values /metrics/latest answers, all from the agent', async () => {
    const { page, requests, foreign, errors } = await openPage(browser, origin);
    await signIn(page, origin, TOKEN);
    await assertChartsShow(page, (await apiGet(`${origin}/metrics/latest`, { token: TOKEN, ca })).json<Sample>());
    assert.equal(await page.$eval('#hostname', (el) => el.textContent), (await apiGet(`${origin}/inventory`, { token: TOKEN, ca })).json<{ hostname: string }>().hostname);

    assert.deepEqual(foreign, []);
    assert.ok(requests.every((r) => !r.url.includes(TOKEN)));
    // The live updates came over one stream, sent with the token, still open on the agent.
    assert.deepEqual(dataRequests(requests), ['/status', '/status', '/status/stream']);
    assert.equal(requests.find((r) => pathOf(r.url).startsWith('/status/stream'))!.authorization, `Bearer ${TOKEN}`);
    assert.equal((await apiGet(`${origin}/status`, { token: TOKEN, ca })).json<{ api: { live_streams: number } }>().api.live_streams, 1);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), []);
    assert.deepEqual(errors, []);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-firefox.png'), fullPage: true });
    await page.close();
  });

  it('says 401 for a wrong token and fetches no chart data', async () => {
    const { page, requests } = await openPage(browser, origin, { incognito: true });
    await page.goto(`${origin}/`);
    await page.waitForSelector('#auth:not([hidden])');
    await page.type('#auth-token', 'not-the-token');
    await page.click('#auth-form button');
    await page.waitForSelector('#auth-message[data-kind="refused"]');
    assert.match(await page.$eval('#auth-message', (el) => el.textContent ?? ''), /401/);
    assert.deepEqual(requests.map((r) => pathOf(r.url)).filter((p) => p.startsWith('/metrics')), []);
    await page.browserContext().close();
  });
});
