import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../internal/procfs/host';
import { defaultConfig } from '../../internal/config/defaults';
import { apiHeaders, apiUrl, nextIntervalMs } from '../../internal/heartbeat/client';
import type { HttpReply } from '../../internal/heartbeat/http';
import { NetworkError } from '../../internal/heartbeat/http';
import { sendWithRetry, serverMessage, type RetryPolicy } from '../../internal/heartbeat/retry';

const policy = (change: Partial<RetryPolicy> = {}): RetryPolicy => ({ timeoutMs: 2000, retry: true, initialMs: 20, maxMs: 100, random: () => 0.5, ...change });
const reply = (status: number, body = '', headers: Record<string, string> = {}): HttpReply => ({ status, body, headers });

/** An attempt function answering from a script, recording how often it was called. */
function scripted(...replies: Array<HttpReply | Error>): { attempt: () => Promise<HttpReply>; calls: () => number } {
  let calls = 0;
  return {
    attempt: async () => {
      const next = replies[Math.min(calls++, replies.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    },
    calls: () => calls,
  };
}

describe('retry policy', () => {
  it('network errors, 408, 429, 502, 503 and 504 are retried; the first 2xx ends the exchange', async () => {
    const s = scripted(new NetworkError('http://127.0.0.1:1', 'ECONNREFUSED', 'refused'), reply(408), reply(429), reply(502), reply(503), reply(504), reply(200, '{"success":true}'));
    const outcome = await sendWithRetry(s.attempt, policy(), systemClock, new AbortController().signal);
    assert.deepEqual(outcome, { kind: 'ok', status: 200, body: '{"success":true}', attempts: 7 });
  });

  it('400, 404 and 500 are not retried (the exporter\'s table); 401 and 403 are credentials', async () => {
    for (const status of [400, 404, 409, 500, 501]) {
      const s = scripted(reply(status, '{"error":"Invalid request","error_code":"INVALID_REQUEST"}'));
      const outcome = await sendWithRetry(s.attempt, policy(), systemClock, new AbortController().signal);
      assert.deepEqual(outcome, { kind: 'rejected', status, message: 'Invalid request / INVALID_REQUEST', attempts: 1 });
    }
    for (const status of [401, 403]) {
      const outcome = await sendWithRetry(scripted(reply(status, 'nope')).attempt, policy(), systemClock, new AbortController().signal);
      assert.equal(outcome.kind, 'unauthorized');
    }
  });

  it('stops retrying when the next wait would pass the timeout, or when retries are off', async () => {
    const s = scripted(reply(503));
    const outcome = await sendWithRetry(s.attempt, policy({ timeoutMs: 150, initialMs: 40, maxMs: 1000 }), systemClock, new AbortController().signal);
    assert.equal(outcome.kind, 'gave_up');
    assert.ok(s.calls() >= 2 && s.calls() <= 3, `${s.calls()} attempts within 150 ms at 30, 60 and 120 ms waits`);
    const once = scripted(reply(503));
    assert.equal((await sendWithRetry(once.attempt, policy({ retry: false }), systemClock, new AbortController().signal)).kind, 'gave_up');
    assert.equal(once.calls(), 1);
  });

  it('a Retry-After beyond the timeout gives up at once instead of hammering', async () => {
    const s = scripted(reply(429, '', { 'retry-after': '60' }));
    const outcome = await sendWithRetry(s.attempt, policy(), systemClock, new AbortController().signal);
    assert.equal(outcome.kind, 'gave_up');
    assert.equal(s.calls(), 1);
  });

  it('server messages: JSON error fields, else the text, else the status', () => {
    assert.equal(serverMessage(reply(400, '{"success":false,"error":"Invalid request"}')), 'Invalid request');
    assert.equal(serverMessage(reply(502, '<html>\n bad gateway </html>')), '<html> bad gateway </html>');
    assert.equal(serverMessage(reply(500, '')), 'HTTP 500');
  });
});

describe('request shape', () => {
  it('URLs join the base without doubled slashes and escape the id', () => {
    assert.equal(apiUrl('http://api:3100/api/v2/', 'agents', 'a b', 'heartbeat').href, 'http://api:3100/api/v2/agents/a%20b/heartbeat');
    assert.equal(apiUrl('https://api.example/api/v2', 'agents').href, 'https://api.example/api/v2/agents');
  });

  it('key headers only when both halves are set; workspace and tenant only when set', () => {
    const tf = defaultConfig().telemetryflow;
    tf.api_key_id = 'tfk_1';
    let h = apiHeaders(tf);
    assert.equal(h['X-API-Key-ID'], undefined);
    assert.equal(h['X-Workspace-ID'], undefined);
    tf.api_key_secret = 'tfs_1';
    tf.tenant_id = 't';
    h = apiHeaders(tf);
    assert.equal(h['X-API-Key-ID'], 'tfk_1');
    assert.equal(h['X-API-Key-Secret'], 'tfs_1');
    assert.equal(h['X-Tenant-ID'], 't');
    assert.equal(h['Content-Type'], 'application/json');
    assert.equal(h.Accept, 'application/json');
  });

  it('next_interval within [1 s, 1 h]; nonsense ignored', () => {
    assert.equal(nextIntervalMs({ next_interval: 30 }), 30_000);
    assert.equal(nextIntervalMs({ next_interval: 0.2 }), 1000);
    assert.equal(nextIntervalMs({ next_interval: 10 ** 9 }), 3_600_000);
    assert.equal(nextIntervalMs({ next_interval: 0 }), undefined);
    assert.equal(nextIntervalMs({ next_interval: -5 }), undefined);
    assert.equal(nextIntervalMs({ next_interval: 'soon' as unknown as number }), undefined);
    assert.equal(nextIntervalMs({}), undefined);
  });
});
