// The status page's live stream over real HTTPS: its lines, one per sample as the sampler takes
// them, joined to what the client had without a gap or a duplicate; the token; the cap on open
// streams; a client that goes away, one that stops reading, and the agent stopping.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LocalApi } from '../../internal/api/local-api';
import type { Sample } from '../../internal/api/sample';
import { LIVE_FEED_LIMITS, LiveFeed, sampleLine, STREAM_CONTENT_TYPE } from '../../internal/api/status-stream';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig } from '../../internal/config/types';
import { systemClock } from '../../internal/procfs/host';
import { apiGet } from '../support/api-client';
import { makeCertificate } from '../support/certs';
import { tempHostRoot } from '../support/host-root';
import { logCapture } from '../support/log-capture';
import { sampleAt } from '../support/samples';
import { eventually } from '../support/status-page';
import { until } from '../support/wait';


const dir = mkdtempSync(join(tmpdir(), 'tfo-status-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'stream-token-0123456789';
const INTERVAL_MS = 100;

type Line = { status?: Record<string, Record<string, unknown>>; sample?: Sample };

/** One open stream as a client reads it: its answer, the lines so far, and the end. */
interface OpenStream {
  res: IncomingMessage;
  lines: Line[];
  ended: Promise<'end' | 'aborted'>;
  /** Waits until at least `n` lines have arrived. */
  lines_(n: number, timeoutMs?: number): Promise<Line[]>;
  close(): void;
}

function openStream(url: string, ca: Buffer, token: string | undefined = TOKEN): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const req = request(url, { headers, ca, agent: false }, (res) => {
      const lines: Line[] = [];
      let pending = '';
      const waiters: Array<() => void> = [];
      res.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk;
        const end = pending.lastIndexOf('\n');
        if (end < 0) return;
        for (const line of pending.slice(0, end).split('\n')) lines.push(JSON.parse(line) as Line);
        pending = pending.slice(end + 1);
        for (const wake of waiters.splice(0)) wake();
      });
      const ended = new Promise<'end' | 'aborted'>((done) => {
        res.on('end', () => done('end'));
        res.on('aborted', () => done('aborted'));
        res.on('error', () => done('aborted'));
      });
      resolve({
        res, lines, ended,
        lines_: async (n, timeoutMs = 10_000) => {
          const deadline = Date.now() + timeoutMs;
          while (lines.length < n) {
            if (Date.now() > deadline) throw new Error(`${n} lines not received in ${timeoutMs} ms (${lines.length})`);
            await new Promise<void>((wake) => {
              waiters.push(wake);
              setTimeout(wake, 100);
            });
          }
          return lines;
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
    req.end();
  });
}

describe('GET /status/stream over HTTPS', () => {
  const host = tempHostRoot('procfs/vm-6.18-2cpu');
  after(() => host.remove());
  const cert = makeCertificate(dir, 'stream');
  const log = logCapture();
  let api: LocalApi;
  const get = (path: string, token?: string) => apiGet(api.url + path, { token, ca: cert.pem });
  const streams = async (): Promise<number> => (await get('/status', TOKEN)).json<{ api: { live_streams: number } }>().api.live_streams;

  before(async () => {
    const base = defaultConfig();
    const config: AgentConfig = {
      ...base,
      host_root: host.root,
      agent: { ...base.agent, hostname: 'stream-host' },
      api: { ...base.api, enabled: true, address: '127.0.0.1:0', token: TOKEN, tls: { cert_file: cert.certFile, key_file: cert.keyFile }, csv_dir: join(dir, 'csv'), collect_interval: INTERVAL_MS },
    };
    api = await LocalApi.start(config, { logger: log.logger, clock: systemClock, env: {} });
    await until('five samples', () => (api.ring.size >= 5 ? true : undefined));
  });
  after(() => api.stop());

  it('needs the token: 401 with WWW-Authenticate, no line sent', async () => {
    for (const [token, challenge] of [[undefined, 'Bearer realm="tfo-agent"'], ['wrong-token', 'Bearer realm="tfo-agent", error="invalid_token"']] as const) {
      const answer = await get('/status/stream?since=0', token);
      assert.equal(answer.status, 401);
      assert.equal(answer.headers['www-authenticate'], challenge);
      assert.doesNotMatch(answer.text, /sample|status"/);
    }
  });

  it('starts with the header and the samples after `since`, then a line per sample as it is taken, with no gap or duplicate', async () => {
    const had = (await get('/metrics/range?seconds=600', TOKEN)).json<Sample[]>();
    const since = had[had.length - 3]!.ts_unix;
    const stream = await openStream(`${api.url}/status/stream?since=${since}`, cert.pem);
    assert.equal(stream.res.statusCode, 200);
    assert.equal(stream.res.headers['content-type'], STREAM_CONTENT_TYPE);
    assert.equal(stream.res.headers['cache-control'], 'no-store');
    const lines = await stream.lines_(12);
    assert.equal(await streams(), 1);
    stream.close();
    assert.equal(lines[0]!.status!.host!.hostname, 'stream-host');
    const streamed = lines.slice(1).flatMap((line) => (line.sample ? [line.sample] : []));
    // The two samples the client did not have yet, first.
    assert.deepEqual(streamed.slice(0, 2), had.slice(-2));
    // Every sample the ring holds after `since`, each once, in order: no gap, no duplicate.
    const ring = (await get('/metrics/range?seconds=600', TOKEN)).json<Sample[]>().filter((s) => s.ts_unix > since && s.ts_unix <= streamed[streamed.length - 1]!.ts_unix);
    assert.deepEqual(streamed, ring);
    assert.ok(streamed.length >= 10);
  });

  it('writes each sample as it is taken: one line per interval, not a batch', async () => {
    const stream = await openStream(`${api.url}/status/stream`, cert.pem);
    const arrivals: number[] = [];
    stream.res.on('data', () => arrivals.push(Date.now()));
    const lines = await stream.lines_(7);
    stream.close();
    // No catch-up without since: the header, then only new samples.
    const samples = lines.slice(1).flatMap((line) => (line.sample ? [line.sample] : []));
    assert.ok(samples.length >= 5);
    const gaps = samples.slice(1).map((s, i) => s.ts_unix - samples[i]!.ts_unix);
    assert.ok(gaps.every((gap) => gap > 0.05 && gap < 1), gaps.join(' '));
    const apart = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
    assert.ok(apart.filter((ms) => ms >= 50).length >= 4, `chunks arrived ${apart.join(' ')} ms apart`);
  });

  it('streams to an HTTP/1.0 client too: no chunked framing, the body ends with the connection', async () => {
    const { connect } = await import('node:tls');
    const [hostname, port] = api.url.replace('https://', '').split(':');
    const socket = connect({ host: hostname, port: Number(port), ca: cert.pem, servername: 'localhost' });
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.write(`GET /status/stream HTTP/1.0\r\nHost: ${hostname}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    await until('the header and four samples', () => ((text.split('\r\n\r\n')[1] ?? '').split('\n').length > 5 ? true : undefined));
    socket.destroy();
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.match(head, /connection: close/i);
    // Every line whole JSON: a chunk size between them would not parse.
    const lines = body.split('\n').slice(0, -1).map((line) => JSON.parse(line) as Line);
    assert.equal(lines[0]!.status!.host!.hostname, 'stream-host');
    assert.ok(lines.slice(1).every((line) => line.sample !== undefined && line.sample.host === 'stream-host'), body);
  });

  it('HEAD answers the headers only; since that is not a time: 400', async () => {
    const head = await apiGet(`${api.url}/status/stream`, { token: TOKEN, ca: cert.pem, method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const bad = await get('/status/stream?since=yesterday', TOKEN);
    assert.equal(bad.status, 400);
    assert.equal(bad.json().parameter, 'since');
  });

  it('holds at most 8 streams: the next one is answered 503 with a JSON error, and a freed place is taken again', async () => {
    await eventually('0 streams open', async () => (await streams()) === 0);
    const open = await Promise.all(Array.from({ length: LIVE_FEED_LIMITS.maxStreams }, () => openStream(`${api.url}/status/stream`, cert.pem)));
    assert.ok(open.every((s) => s.res.statusCode === 200));
    const refused = await get('/status/stream', TOKEN);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['content-type'], 'application/json');
    assert.match(refused.json<{ error: string }>().error, /too many live streams: 8 are open, at most 8/);
    open.pop()!.close();
    await eventually('7 streams open', async () => (await streams()) === 7);
    const again = await openStream(`${api.url}/status/stream`, cert.pem);
    assert.equal(again.res.statusCode, 200);
    for (const s of [...open, again]) s.close();
  });

  it('forgets a client that goes away', async () => {
    await eventually('0 streams open', async () => (await streams()) === 0);
    const stream = await openStream(`${api.url}/status/stream`, cert.pem);
    await stream.lines_(2);
    assert.equal(await streams(), 1);
    stream.close();
    await eventually('0 streams open', async () => (await streams()) === 0);
  });

  it('ends every stream when the API stops, at once', async () => {
    const stream = await openStream(`${api.url}/status/stream`, cert.pem);
    await stream.lines_(2);
    const t0 = Date.now();
    await api.stop();
    assert.equal(await stream.ended, 'end');
    assert.ok(Date.now() - t0 < 1_000, `${Date.now() - t0} ms`);
  });
});

describe('a live stream and the listener\'s timeouts', () => {
  const host = tempHostRoot('procfs/vm-6.18-2cpu');
  after(() => host.remove());

  it('lives past the idle timeout on its own lines, when samples come slower than the timeout; a silent connection does not', async () => {
    const base = defaultConfig();
    const config: AgentConfig = {
      ...base,
      host_root: host.root,
      api: { ...base.api, enabled: true, address: '127.0.0.1:0', token: '', csv_dir: join(dir, 'csv-timeouts'), collect_interval: 2_000 },
    };
    const api = await LocalApi.start(config, { logger: logCapture().logger, clock: systemClock, env: {}, listenerLimits: { maxConnections: 32, headersTimeoutMs: 200, idleTimeoutMs: 400 } });
    try {
      const { connect } = await import('node:net');
      const [hostname, port] = api.url.replace('http://', '').split(':');
      const silent = connect(Number(port), hostname);
      const silentClosed = new Promise<number>((resolve) => silent.on('close', () => resolve(Date.now())));
      const { request: httpRequest } = await import('node:http');
      const t0 = Date.now();
      const lines: string[] = [];
      const res = await new Promise<IncomingMessage>((resolve, reject) => httpRequest(`${api.url}/status/stream`, { agent: false }, resolve).on('error', reject).end());
      res.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
      let ended = false;
      res.on('close', () => (ended = true));
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.equal(ended, false, 'the stream is still open after 6 idle timeouts');
      assert.ok(lines.filter((line) => line.startsWith('{"status"')).length >= 5, lines.map((l) => l.slice(0, 12)).join(' '));
      assert.ok((await silentClosed) - t0 < 1_000, 'the silent connection was closed');
      res.destroy();
    } finally {
      await api.stop();
    }
  });
});

/** A response whose client has stopped reading: it takes what is written and never drains. */
class StalledTarget extends Writable {
  destroyedBy: 'feed' | undefined;
  constructor() {
    super({ highWaterMark: 1024, write: () => undefined });
  }
  override destroy(error?: Error): this {
    this.destroyedBy = 'feed';
    return super.destroy(error);
  }
}

describe('LiveFeed', () => {
  const sample = (ts: number): Sample => sampleAt(ts);

  it('writes each sample once to every stream, and the header when what it counts moved', async () => {
    const log = logCapture();
    let built = 0;
    let version = 1;
    const feed = new LiveFeed({ build: async () => ({ n: ++built }), version: () => version }, systemClock, log.logger, { ...LIVE_FEED_LIMITS, statusMaxAgeMs: 60_000 });
    const a = new PassThrough();
    const b = new PassThrough();
    assert.ok(feed.open(a, 'first\n'));
    assert.ok(feed.open(b, 'first\n'));
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    feed.publish(sample(1));
    await tick();
    feed.publish(sample(2));
    await tick();
    version = 2;
    feed.publish(sample(3));
    await tick();
    // The status is built once the sample is written (it is asynchronous): after it.
    const expected = `first\n${sampleLine(sample(1))}{"status":{"n":1}}\n${sampleLine(sample(2))}${sampleLine(sample(3))}{"status":{"n":2}}\n`;
    assert.equal(a.read().toString(), expected);
    assert.equal(b.read().toString(), expected);
    assert.equal(built, 2, 'one status for all streams, and none while nothing moved');
    feed.close();
  });

  it('refreshes the header after statusMaxAgeMs when nothing moved', async () => {
    let built = 0;
    const feed = new LiveFeed({ build: async () => ({ n: ++built }), version: () => 1 }, systemClock, logCapture().logger, { ...LIVE_FEED_LIMITS, statusMaxAgeMs: 30 });
    const target = new PassThrough();
    feed.open(target, '');
    for (let ts = 1; ts <= 4; ts += 1) {
      feed.publish(sample(ts));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(built >= 2 && built <= 3, `${built} status lines`);
    feed.close();
  });

  it('drops a stream whose client stopped reading once its backlog passes the limit, and keeps the others', () => {
    const log = logCapture();
    const feed = new LiveFeed({ build: async () => ({}), version: () => 1 }, systemClock, log.logger, { ...LIVE_FEED_LIMITS, maxBacklogBytes: 4096 });
    const stalled = new StalledTarget();
    const reading = new PassThrough();
    reading.resume();
    feed.open(stalled, 'first\n');
    feed.open(reading, 'first\n');
    let ts = 0;
    while (feed.size === 2 && ts < 100) feed.publish(sample((ts += 1)));
    assert.equal(feed.size, 1);
    assert.equal(stalled.destroyedBy, 'feed');
    // Bounded: the limit plus at most one line beyond it.
    assert.ok(stalled.writableLength <= 'first\n'.length + 4096 + sampleLine(sample(ts)).length, `${stalled.writableLength} bytes`);
    assert.deepEqual(log.events().filter((e) => e === 'api.stream_dropped'), ['api.stream_dropped']);
    feed.close();
  });

  it('without samples, a status line every keepAliveMs keeps the connection busy; and a stream whose client went is forgotten', async () => {
    const log = logCapture();
    const feed = new LiveFeed({ build: async () => ({ alive: true }), version: () => 1 }, systemClock, log.logger, { ...LIVE_FEED_LIMITS, keepAliveMs: 50 });
    const target = new PassThrough();
    feed.open(target, '');
    await new Promise((resolve) => setTimeout(resolve, 180));
    const text = String(target.read() ?? '');
    assert.ok(text.split('\n').filter((line) => line === '{"status":{"alive":true}}').length >= 2, text);
    target.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(feed.size, 0);
  });
});
