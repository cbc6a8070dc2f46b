import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SystemInfo } from '../../pkg/heartbeat';
import { REGISTERED_ID_FILE, type Heartbeat, type HeartbeatOptions } from '../../internal/heartbeat/client';
import { startHeartbeat } from '../../internal/heartbeat/start';
import type { AgentConfig } from '../../internal/config/types';
import { VERSION } from '../../internal/version/version';
import { answers, startFakeTelemetryFlowApi, type ApiRequest, type FakeTelemetryFlowApi } from '../support/fake-telemetryflow-api';
import { HostFs } from '../../internal/procfs/host';
import { FIXTURES } from '../support/paths';
import { captureLogger, delay, heartbeatConfig, tempDir } from './helpers';

const AGENT_ID = '5d6f1a3e-8c2b-5e4f-9a1d-0b7c3e2f4a6d';
const KEY_ID = 'tfk_test_key_id';
const SECRET = 'tfs_s3cr3t_value_that_must_never_leak';

/**
 * Heartbeats start one interval apart; each request leaves after its payload was built, so the
 * gap between two arrivals is at least the interval minus the earlier build's duration (which the
 * body reports as collectionDuration, in ns).
 */
function assertSpacing(beats: ApiRequest[], intervalMs: number): void {
  for (let i = 1; i < beats.length; i++) {
    const buildMs = ((beats[i - 1]!.body as { systemInfo: SystemInfo }).systemInfo.collectionDuration) / 1e6;
    const gap = beats[i]!.at - beats[i - 1]!.at;
    assert.ok(gap >= intervalMs - buildMs - 50, `heartbeats ${gap} ms apart; interval ${intervalMs} ms, build ${buildMs.toFixed(0)} ms`);
  }
}

describe('heartbeat client against the fake TelemetryFlow API', () => {
  let api: FakeTelemetryFlowApi;
  let data: ReturnType<typeof tempDir>;
  let heartbeat: Heartbeat | undefined;
  let log: ReturnType<typeof captureLogger>;

  beforeEach(async () => {
    data = tempDir();
    log = captureLogger();
  });

  afterEach(async () => {
    await heartbeat?.stop();
    heartbeat = undefined;
    await api?.close();
    data.remove();
  });

  const start = (config: AgentConfig, extra: Partial<HeartbeatOptions> = {}): Heartbeat => {
    heartbeat = startHeartbeat({ config, agentId: AGENT_ID, logger: log.logger, firstDelayMs: 50, random: () => 0.5, ...extra });
    return heartbeat;
  };
  const info = (r: ApiRequest): SystemInfo => (r.body as { systemInfo: SystemInfo }).systemInfo;
  const noProblems = (requests: ApiRequest[]): void => {
    for (const r of requests) assert.deepEqual(r.problems, [], `${r.path}: ${r.problems.join('; ')}`);
  };

  it('posts at start and then every interval, with the contract headers and a body valid against the schema', async () => {
    api = await startFakeTelemetryFlowApi({ keyId: KEY_ID, keySecret: SECRET, workspaceId: 'ws-1', tenantId: 'tenant-1' });
    start(
      heartbeatConfig(api.url, data.path, (c) => {
        c.heartbeat.interval = 1000;
        c.telemetryflow.api_key_id = KEY_ID;
        c.telemetryflow.api_key_secret = SECRET;
        c.telemetryflow.workspace_id = 'ws-1';
        c.telemetryflow.tenant_id = 'tenant-1';
      }),
    );
    await api.waitFor((r) => r.length >= 3);
    const beats = api.heartbeats();
    noProblems(beats);
    assert.equal(beats[0]!.path, `/api/v2/agents/${AGENT_ID}/heartbeat`);
    assert.equal(beats[0]!.headers['x-agent-version'], VERSION);
    assert.match(String(beats[0]!.headers['user-agent']), /^tfo-agent\/\S+ \(linux; \w+\)$/);
    assertSpacing(beats, 1000);
    while (heartbeat!.status().sent < 3) await delay(20);
    assert.equal(heartbeat!.status().failed, 0);
  });

  it('sends a known zero as 0 and leaves nothing knowable out', async () => {
    api = await startFakeTelemetryFlowApi();
    start(heartbeatConfig(api.url, data.path));
    await api.waitFor((r) => r.length >= 1);
    const body = info(api.heartbeats()[0]!);
    noProblems(api.heartbeats());
    for (const field of ['swapUsed', 'swapFree', 'processZombie', 'processStopped', 'networkErrorsIn', 'diskIoInProgress', 'tcpConnectionsClosing', 'tcpRetransmits', 'swapIn']) {
      assert.equal(typeof (body as unknown as Record<string, unknown>)[field], 'number', `${field} is present`);
    }
    // The first heartbeat already has rates: the client took its baseline reading at start.
    assert.equal(typeof body.diskIops, 'number');
    assert.equal(typeof body.networkBytesSentRate, 'number');
    assert.equal(body.systemCalls, undefined, 'no cheap source on Linux');
    assert.equal(body.agentVersion, VERSION);
  });

  it('retries 503s with backoff inside one heartbeat and succeeds', async () => {
    api = await startFakeTelemetryFlowApi();
    api.queue(answers.unavailable(), answers.unavailable());
    const hb = start(heartbeatConfig(api.url, data.path));
    await api.waitFor((r) => r.length >= 3);
    await delay(100);
    assert.deepEqual(
      api.heartbeats().map((r) => r.path),
      Array(3).fill(`/api/v2/agents/${AGENT_ID}/heartbeat`),
    );
    assert.equal(hb.status().sent, 1);
    assert.equal(hb.status().failed, 0);
    assert.equal(log.events().filter((e) => e.event === 'heartbeat.failing').length, 0, 'a heartbeat that succeeded on retry is no failure');
  });

  it('waits as long as Retry-After says on 429', async () => {
    api = await startFakeTelemetryFlowApi();
    api.queue(answers.rateLimited(1));
    start(heartbeatConfig(api.url, data.path));
    await api.waitFor((r) => r.length >= 2);
    const [first, second] = api.heartbeats();
    assert.ok(second!.at - first!.at >= 950, `retried after ${second!.at - first!.at} ms, Retry-After was 1 s`);
  });

  it('gives up within heartbeat.timeout when the API never answers', async () => {
    api = await startFakeTelemetryFlowApi();
    api.fallback = answers.silent();
    const hb = start(heartbeatConfig(api.url, data.path, (c) => (c.heartbeat.timeout = 1200)));
    await api.waitFor((r) => r.length >= 1);
    const firstAt = api.requests[0]!.at;
    while (hb.status().failed === 0) await delay(50);
    const took = Date.now() - firstAt;
    assert.ok(took < 1200 + 1000, `gave up after ${took} ms with a 1.2 s timeout`);
    assert.match(hb.status().lastError ?? '', /heartbeat\.timeout/);
  });

  it('a slow answer within the timeout counts as success', async () => {
    api = await startFakeTelemetryFlowApi();
    api.fallback = answers.slow(400);
    const hb = start(heartbeatConfig(api.url, data.path));
    while (hb.status().sent === 0 && hb.status().failed === 0) await delay(50);
    assert.equal(hb.status().sent, 1);
  });

  it('401: logged once as a credentials problem, not retried, the secret in no log line', async () => {
    api = await startFakeTelemetryFlowApi({ keyId: KEY_ID, keySecret: SECRET });
    api.fallback = answers.unauthorized();
    const hb = start(
      heartbeatConfig(api.url, data.path, (c) => {
        c.heartbeat.interval = 1000;
        c.telemetryflow.api_key_id = KEY_ID;
        c.telemetryflow.api_key_secret = SECRET;
      }),
    );
    await api.waitFor((r) => r.length >= 3);
    await delay(100);
    const beats = api.heartbeats();
    assertSpacing(beats, 1000); // one request per heartbeat: 401 is not retried
    const credentialLines = log.lines.filter((l) => l.includes('credentials rejected'));
    assert.equal(credentialLines.length, 1, credentialLines.join('\n'));
    assert.match(credentialLines[0]!, /api_key_id/);
    assert.ok(hb.status().failed >= 3);
    for (const line of log.lines) assert.ok(!line.includes(SECRET), `secret leaked: ${line}`);
    for (const r of beats) assert.ok(!r.raw.includes(SECRET), 'secret in the body');
  });

  it('400: not retried, logged with the server message (secret scrubbed even if echoed)', async () => {
    api = await startFakeTelemetryFlowApi({ keyId: KEY_ID, keySecret: SECRET });
    api.fallback = answers.badRequest(`hostname missing; key ${SECRET} not allowed here`);
    start(
      heartbeatConfig(api.url, data.path, (c) => {
        c.telemetryflow.api_key_id = KEY_ID;
        c.telemetryflow.api_key_secret = SECRET;
      }),
    );
    await api.waitFor((r) => r.length >= 1);
    while (!log.lines.some((l) => l.includes('request rejected'))) await delay(20);
    await delay(300);
    assert.equal(api.requests.length, 1, '400 is not retried');
    const line = log.lines.find((l) => l.includes('request rejected'))!;
    assert.match(line, /HTTP 400: hostname missing/);
    for (const l of log.lines) assert.ok(!l.includes(SECRET), `secret leaked: ${l}`);
  });

  it("the backend URL's password is scrubbed from a server message that echoes it", async () => {
    const password = 'pw/91-backend';
    api = await startFakeTelemetryFlowApi();
    api.fallback = answers.badRequest(`user api-user with password ${password} is locked`);
    start(heartbeatConfig(api.url.replace('://', `://api-user:${encodeURIComponent(password)}@`), data.path));
    while (!log.lines.some((l) => l.includes('request rejected'))) await delay(20);
    assert.equal(api.requests[0]!.headers.authorization, `Basic ${Buffer.from(`api-user:${password}`).toString('base64')}`);
    const line = log.lines.find((l) => l.includes('request rejected'))!;
    assert.match(line, /HTTP 400: user api-user with password \*\*\* is locked/);
    for (const l of log.lines) assert.ok(!l.includes(password) && !l.includes(encodeURIComponent(password)), `password leaked: ${l}`);
  });

  it('404 is not retried either', async () => {
    api = await startFakeTelemetryFlowApi();
    api.fallback = answers.notFound();
    const hb = start(heartbeatConfig(api.url, data.path));
    while (hb.status().failed === 0) await delay(20);
    await delay(300);
    assert.equal(api.requests.length, 1);
    assert.match(hb.status().lastError ?? '', /HTTP 404: Agent not found/);
  });

  it('next_interval from the reply sets the interval, within [1 s, 1 h]', async () => {
    api = await startFakeTelemetryFlowApi();
    api.fallback = answers.ok(1);
    const hb = start(heartbeatConfig(api.url, data.path)); // configured: 60 s
    await api.waitFor((r) => r.length >= 2);
    assert.equal(hb.status().intervalMs, 1000);
    assert.ok(log.events().some((e) => e.event === 'heartbeat.interval_changed'));
    api.fallback = answers.ok(0.001);
    await api.waitFor((r) => r.length >= 4);
    assert.equal(hb.status().intervalMs, 1000, 'clamped to the 1 s minimum');
    api.fallback = answers.ok(86_400);
    await api.waitFor((r) => r.length >= 5);
    await delay(50);
    assert.equal(hb.status().intervalMs, 3_600_000, 'clamped to the 1 h maximum');
  });

  it('registration: keeps and persists the returned id when the config sets none', async () => {
    api = await startFakeTelemetryFlowApi();
    api.registeredId = 'srv-7f3a';
    const hb = start(heartbeatConfig(api.url, data.path, (c) => (c.heartbeat.register = true)));
    await api.waitFor((r) => r.length >= 2);
    noProblems(api.requests);
    const [registration, beat] = api.requests;
    assert.equal(registration!.path, '/api/v2/agents');
    const body = registration!.body as Record<string, unknown>;
    assert.equal(body.agentVersion, VERSION);
    assert.deepEqual(body.tags, { environment: 'production' });
    assert.equal(beat!.path, '/api/v2/agents/srv-7f3a/heartbeat');
    assert.equal(hb.status().agentId, 'srv-7f3a');
    assert.equal(readFileSync(join(data.path, REGISTERED_ID_FILE), 'utf8').trim(), 'srv-7f3a');
  });

  it('registration: an id that is not a short printable token is refused, the local id kept', async () => {
    for (const assigned of ['x'.repeat(5000), 'srv\n7f3a', 'srv 7f3a']) {
      api = await startFakeTelemetryFlowApi();
      api.registeredId = assigned;
      const hb = start(heartbeatConfig(api.url, data.path, (c) => (c.heartbeat.register = true)));
      await api.waitFor((r) => r.length >= 2);
      assert.equal(api.requests[1]!.path, `/api/v2/agents/${AGENT_ID}/heartbeat`, JSON.stringify(assigned.slice(0, 20)));
      assert.equal(hb.status().agentId, AGENT_ID);
      assert.equal(existsSync(join(data.path, REGISTERED_ID_FILE)), false, 'not persisted');
      assert.ok(log.events().some((e) => e.event === 'heartbeat.registration_id_refused' && e.length === assigned.length));
      await heartbeat!.stop();
      heartbeat = undefined;
      await api.close();
    }
  });

  it('registration: a configured agent.id wins over the returned one', async () => {
    api = await startFakeTelemetryFlowApi();
    start(heartbeatConfig(api.url, data.path, (c) => ((c.heartbeat.register = true), (c.agent.id = AGENT_ID))));
    await api.waitFor((r) => r.length >= 2);
    assert.equal(api.requests[1]!.path, `/api/v2/agents/${AGENT_ID}/heartbeat`);
  });

  it('registration failure: the id assigned on an earlier run is used', async () => {
    api = await startFakeTelemetryFlowApi();
    writeFileSync(join(data.path, REGISTERED_ID_FILE), 'srv-earlier\n');
    api.queue(answers.badRequest('registration closed'));
    start(heartbeatConfig(api.url, data.path, (c) => (c.heartbeat.register = true)));
    await api.waitFor((r) => r.length >= 2);
    assert.equal(api.requests[1]!.path, '/api/v2/agents/srv-earlier/heartbeat');
    assert.ok(log.events().some((e) => e.event === 'heartbeat.registration_failed'));
  });

  it('include_system_info: false sends a liveness-only body', async () => {
    api = await startFakeTelemetryFlowApi();
    start(heartbeatConfig(api.url, data.path, (c) => (c.heartbeat.include_system_info = false)));
    await api.waitFor((r) => r.length >= 1);
    noProblems(api.requests);
    assert.deepEqual(api.requests[0]!.body, {});
  });

  it('a source the host lacks is logged once, not on every heartbeat, and its fields are left out', async () => {
    api = await startFakeTelemetryFlowApi();
    const root = join(FIXTURES, 'procfs', 'vm-6.18-2cpu'); // captured without /proc/net/snmp
    start(heartbeatConfig(api.url, data.path, (c) => ((c.heartbeat.interval = 1000), (c.host_root = root))), { host: new HostFs(root) });
    await api.waitFor((r) => r.length >= 3);
    noProblems(api.heartbeats());
    for (const r of api.heartbeats()) assert.equal(info(r).tcpRetransmits, undefined);
    const lines = log.events().filter((e) => String(e.event).startsWith('heartbeat.sources'));
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.match(String(lines[0]!.reason), /\/proc\/net\/snmp/);
  });

  it('stop() ends a heartbeat in flight at once', async () => {
    api = await startFakeTelemetryFlowApi();
    api.fallback = answers.silent();
    const hb = start(heartbeatConfig(api.url, data.path, (c) => (c.heartbeat.timeout = 20_000)));
    await api.waitFor((r) => r.length >= 1);
    await hb.stop();
    assert.equal(hb.status().failed, 0, 'a stop is not a failure');
  });
});

describe('heartbeat disabled', () => {
  it('without backend_endpoint: one clear log line and nothing sent', async () => {
    const log = captureLogger();
    const data = tempDir();
    const config = heartbeatConfig('', data.path);
    const hb = startHeartbeat({ config, agentId: AGENT_ID, logger: log.logger });
    await hb.stop();
    data.remove();
    assert.equal(hb.status().enabled, false);
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]!, /backend_endpoint is not set/);
  });
});
