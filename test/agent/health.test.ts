import { createHook } from 'node:async_hooks';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HEALTH_LIMITS, HealthListenError, HealthStatus, parseListenAddress, startHealthServer } from '../../internal/health/server';
import { silentLogger } from '../../internal/log/logger';
import type { Clock } from '../../internal/procfs/host';
import { idleSockets } from '../support/sockets';

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-11-22T00:00:00Z')): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => start + offset, monotonic: () => offset, advance: (ms) => (offset += ms) };
}

async function get(address: string, path: string, method = 'GET'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${address}${path}`, { method });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('status: starting and not ready until a collection succeeds, then ok', () => {
  const clock = manualClock();
  const status = new HealthStatus(clock, 'agent-1', '1.2.3');
  assert.equal(status.ready, false);
  assert.equal(status.snapshot().status, 'starting');
  assert.equal(status.snapshot().last_collection, null);

  status.recordCollection({ collector: 'cpu', ok: false, error: '/proc/stat: truncated', durationMs: 1, at: clock.now() });
  assert.equal(status.ready, false, 'a failed collection is not readiness');

  clock.advance(2500);
  status.recordCollection({ collector: 'cpu', ok: true, durationMs: 1, at: clock.now() });
  status.recordCollection({ collector: 'memory', ok: true, durationMs: 1, at: clock.now() });
  const snap = status.snapshot();
  assert.equal(status.ready, true);
  assert.equal(snap.status, 'ok');
  assert.equal(snap.uptime_s, 3);
  assert.equal(snap.agent_id, 'agent-1');
  assert.equal(snap.version, '1.2.3');
  assert.deepEqual(snap.last_collection, { at: '2026-11-22T00:00:02.500Z', ok: true, errors: {} });
});

test('status: a failing collector or export makes it degraded and names the error', () => {
  const clock = manualClock();
  const status = new HealthStatus(clock, 'a', 'v');
  status.recordCollection({ collector: 'cpu', ok: true, durationMs: 1, at: clock.now() });
  status.recordCollection({ collector: 'load', ok: false, error: 'ENOENT /proc/loadavg', durationMs: 1, at: clock.now() });
  let snap = status.snapshot();
  assert.equal(snap.status, 'degraded');
  assert.deepEqual((snap.last_collection as { errors: unknown }).errors, { load: 'ENOENT /proc/loadavg' });

  status.recordCollection({ collector: 'load', ok: true, durationMs: 1, at: clock.now() });
  status.setExportSource(() => ({ at: clock.now(), ok: false, reason: 'connection_refused' }));
  snap = status.snapshot();
  assert.equal(snap.status, 'degraded');
  assert.deepEqual(snap.last_export, { at: new Date(clock.now()).toISOString(), ok: false, reason: 'connection_refused' });

  status.setExportSource(() => ({ at: clock.now(), ok: true }));
  assert.equal(status.snapshot().status, 'ok');
});

test('status: providers add their sections; reset forgets the old collectors but not readiness', () => {
  const status = new HealthStatus(manualClock(), 'a', 'v');
  status.addProvider('buffer', () => ({ backlog_batches: 3 }));
  assert.deepEqual(status.snapshot().buffer, { backlog_batches: 3 });
  status.removeProvider('buffer');
  assert.equal('buffer' in status.snapshot(), false);

  status.recordCollection({ collector: 'cpu', ok: true, durationMs: 1, at: 0 });
  status.resetCollections();
  assert.equal(status.snapshot().last_collection, null);
  assert.equal(status.ready, true);
});

test('listen addresses: host:port, [v6]:port, :port; anything else names health.address', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:13133'), { host: '127.0.0.1', port: 13133 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListenAddress(':8080'), { host: '0.0.0.0', port: 8080 });
  for (const bad of ['13133', 'localhost', '127.0.0.1:99999', '127.0.0.1:http']) {
    assert.throws(() => parseListenAddress(bad), /health\.address: .* is not host:port/);
  }
});

test('server: /ready answers 503 then 200, /health the JSON snapshot, other paths 404', async () => {
  const clock = manualClock();
  const status = new HealthStatus(clock, 'agent-9', '0.1.0');
  const server = await startHealthServer('127.0.0.1:0', status, silentLogger());
  try {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(server.address, '127.0.0.1:0');
    assert.deepEqual(await get(server.address, '/ready'), { status: 503, body: { ready: false } });

    status.recordCollection({ collector: 'cpu', ok: true, durationMs: 1, at: clock.now() });
    assert.deepEqual(await get(server.address, '/ready'), { status: 200, body: { ready: true } });

    const health = await get(server.address, '/health?verbose=1');
    assert.equal(health.status, 200);
    assert.equal(health.body.agent_id, 'agent-9');
    assert.equal(health.body.status, 'ok');

    assert.equal((await get(server.address, '/metrics')).status, 404);
    assert.equal((await get(server.address, '/health', 'POST')).status, 405);
  } finally {
    await server.close();
  }
});

test('server: a port in use is a clear error naming health.address', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(blocker.address() as AddressInfo).port}`;
  try {
    await assert.rejects(startHealthServer(address, new HealthStatus(manualClock(), 'a', 'v'), silentLogger()), (err: unknown) => {
      assert.ok(err instanceof HealthListenError);
      assert.match(err.message, /health\.address 127\.0\.0\.1:\d+ is already in use/);
      return true;
    });
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});

async function until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('server: connections beyond the cap are closed at once, and the probe still answers', async () => {
  const status = new HealthStatus(manualClock(), 'a', 'v');
  const server = await startHealthServer('127.0.0.1:0', status, silentLogger());
  const extra = 20;
  const idle = await idleSockets(server.address, HEALTH_LIMITS.maxConnections + extra);
  try {
    await until(() => idle.closed() >= extra, 5_000, () => `${extra} connections over the cap closed (closed: ${idle.closed()})`);
    assert.equal(idle.closed(), extra, 'the connections within the cap stay until their timeout');
    for (const socket of idle.sockets) socket.destroy();
    await until(() => idle.closed() === idle.sockets.length, 2_000, () => 'all closed');
    assert.equal((await get(server.address, '/ready')).status, 503);
  } finally {
    for (const socket of idle.sockets) socket.destroy();
    await server.close();
  }
});

test('server: a silent connection and a slow-headers one are closed after their timeouts', async () => {
  const status = new HealthStatus(manualClock(), 'a', 'v');
  const limits = { maxConnections: 4, headersTimeoutMs: 300, idleTimeoutMs: 600 };
  const server = await startHealthServer('127.0.0.1:0', status, silentLogger(), limits);
  const idle = await idleSockets(server.address, 2);
  // Slowloris: a request line, then one header byte every 100 ms, never the end of the headers.
  idle.sockets[1].write('GET /health HTTP/1.1\r\nHost: x\r\n');
  const trickle = setInterval(() => idle.sockets[1].writable && idle.sockets[1].write('X'), 100);
  try {
    await until(() => idle.closed() === 2, 5_000, () => `both closed (closed: ${idle.closed()})`);
    // With the slots free again, a probe is answered.
    assert.equal((await get(server.address, '/ready')).status, 503);
  } finally {
    clearInterval(trickle);
    for (const socket of idle.sockets) socket.destroy();
    await server.close();
  }
});

test('server: with nobody connected no timer of the listener ever fires', async () => {
  const status = new HealthStatus(manualClock(), 'a', 'v');
  const limits = { maxConnections: 4, headersTimeoutMs: 300, idleTimeoutMs: 600 };
  // Every timer created while the listener starts, and how often any of them fires.
  const timers = new Set<number>();
  let starting = true;
  let fired = 0;
  const hook = createHook({
    init: (id, type) => starting && type === 'Timeout' && timers.add(id),
    before: (id) => timers.has(id) && (fired += 1),
  }).enable();
  const server = await startHealthServer('127.0.0.1:0', status, silentLogger(), limits);
  starting = false;
  try {
    // Several header-timeout periods: a periodic check of the connections would have run.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(fired, 0, `${timers.size} timer(s) created at start fired ${fired} time(s)`);
    // The limits still hold for a connection that comes later.
    const idle = await idleSockets(server.address, 1);
    await until(() => idle.closed() === 1, 5_000, () => 'the silent connection closed');
  } finally {
    hook.disable();
    await server.close();
  }
});
