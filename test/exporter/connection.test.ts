// How the transports connect: HTTP/2 keepalive against a peer that goes silent, HTTP CONNECT
// proxies from the environment (and NO_PROXY), every address of a name and a fresh lookup per
// connection, unix sockets, and TLS files that change on disk.
import { createHook } from 'node:async_hooks';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig } from '../../internal/config/types';
import { GrpcTransport } from '../../internal/exporter/grpc-transport';
import { HttpTransport } from '../../internal/exporter/http-transport';
import { noProxyExempts, ProxyConfigError, proxyFor } from '../../internal/exporter/proxy';
import { rereadTlsFiles, TlsSource } from '../../internal/exporter/tls';
import { createTransport } from '../../internal/exporter/transport';
import { makeCertificate } from '../support/certs';
import { startConnectProxy } from '../support/connect-proxy';

const BODY = Buffer.from('an already serialized ExportMetricsServiceRequest');
const HEADERS = { 'User-Agent': 'tfo-agent/0.0.0 (test)' };

function grpcOk(stream: http2.ServerHttp2Stream): void {
  stream.on('error', () => undefined);
  stream.on('data', () => undefined);
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

/** A plaintext gRPC server answering OK; counts the calls, the pings it got, and the sessions the client ended. */
function grpcServer(): { server: http2.Http2Server; calls: () => number; pings: () => number; sessionsClosed: () => number; stop: () => Promise<void> } {
  let calls = 0;
  let pings = 0;
  let sessionsClosed = 0;
  const sessions = new Set<http2.Http2Session>();
  const server = http2.createServer();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('ping', () => (pings += 1));
    s.on('close', () => (sessionsClosed += 1));
  });
  server.on('stream', (stream) => {
    calls += 1;
    grpcOk(stream);
  });
  return {
    server,
    calls: () => calls,
    pings: () => pings,
    sessionsClosed: () => sessionsClosed,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function listen(server: net.Server, ...args: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => void)(...args, () => resolve());
  });
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

/**
 * A TCP relay to `port` whose open connections can go silent: kept open, passing no bytes either
 * way, as a black-holed path (a NAT that forgot the flow) does. New connections still pass.
 */
async function silenceableRelay(port: number): Promise<{ port: number; connections: () => number; silence: () => void; close: () => Promise<void> }> {
  const open = new Map<net.Socket, { silent: boolean }>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const state = { silent: false };
    open.set(client, state);
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    client.on('data', (d) => !state.silent && upstream.write(d));
    upstream.on('data', (d) => !state.silent && client.write(d));
    client.on('close', () => !state.silent && upstream.destroy());
    upstream.on('close', () => !state.silent && client.destroy());
  });
  await listen(server, 0, '127.0.0.1');
  return {
    port: portOf(server),
    connections: () => open.size,
    silence: () => {
      for (const state of open.values()) state.silent = true;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP CONNECT proxy on loopback that records the targets it was asked for. */
function config(mutate: (c: AgentConfig) => void): AgentConfig {
  const c = defaultConfig();
  c.telemetryflow.tls.enabled = false;
  mutate(c);
  return c;
}

describe('HTTP/2 keepalive', () => {
  it('closes a session no call used for the interval, without pinging it, and the next export opens a new one', async () => {
    const upstream = grpcServer();
    await listen(upstream.server, 0, '127.0.0.1');
    const transport = new GrpcTransport({ address: `127.0.0.1:${portOf(upstream.server)}`, headers: HEADERS, compression: 'none', keepalive: { intervalMs: 100, timeoutMs: 200 } });
    try {
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      // Eight intervals idle: a pinging transport would have pinged several times.
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(upstream.pings(), 0, 'an idle session was pinged');
      assert.equal(transport.idleCloses, 1);
      assert.equal(upstream.sessionsClosed(), 1, 'the idle session is still open');
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      assert.equal(upstream.calls(), 2);
    } finally {
      await transport.close();
      await upstream.stop();
    }
  });

  it('waits on no dead connection after an idle spell: a silently dropped one was closed before the next export', async () => {
    const upstream = grpcServer();
    await listen(upstream.server, 0, '127.0.0.1');
    const relay = await silenceableRelay(portOf(upstream.server));
    const transport = new GrpcTransport({ address: `127.0.0.1:${relay.port}`, headers: HEADERS, compression: 'none', keepalive: { intervalMs: 100, timeoutMs: 200 } });
    try {
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      relay.silence();
      await new Promise((r) => setTimeout(r, 800));
      // The next export goes straight to a new connection: no deadline waited out on the dead one.
      const started = Date.now();
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      assert.equal(relay.connections(), 2);
      assert.equal(upstream.calls(), 2);
    } finally {
      await transport.close();
      await relay.close();
      await upstream.stop();
    }
  });

  it('fails a call to a peer that accepts and never answers when the ping goes unanswered, not at its deadline', async () => {
    let closed = 0;
    const peer = net.createServer((socket) => socket.on('close', () => (closed += 1)).on('error', () => undefined).resume());
    await listen(peer, 0, '127.0.0.1');
    const transport = new GrpcTransport({ address: `127.0.0.1:${portOf(peer)}`, headers: HEADERS, compression: 'none', keepalive: { intervalMs: 100, timeoutMs: 150 } });
    try {
      const started = Date.now();
      const result = await transport.send(BODY, 10_000);
      assert.equal(result.outcome, 'retryable');
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
      assert.equal(transport.keepaliveFailures, 1);
      for (let waited = 0; closed === 0 && waited < 2000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      assert.equal(closed, 1, 'the connection to the silent peer is closed');
    } finally {
      await transport.close();
      peer.close();
    }
  });

  it('wakes nothing before the interval has passed on an idle session', async () => {
    const upstream = grpcServer();
    await listen(upstream.server, 0, '127.0.0.1');
    const transport = new GrpcTransport({ address: `127.0.0.1:${portOf(upstream.server)}`, headers: HEADERS, compression: 'none', keepalive: { intervalMs: 5000, timeoutMs: 100 } });
    // Every timer the agent's exporter code created during the export (the in-process test server
    // keeps timers of its own), and how often any of them fires afterwards.
    const timers = new Set<number>();
    let exporting = true;
    let fired = 0;
    const hook = createHook({
      init: (id, type) => {
        if (!exporting || type !== 'Timeout') return;
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 30;
        const stack = new Error().stack ?? '';
        Error.stackTraceLimit = limit;
        if (/[\\/]internal[\\/]exporter[\\/]/.test(stack)) timers.add(id);
      },
      before: (id) => timers.has(id) && (fired += 1),
    }).enable();
    try {
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      exporting = false;
      fired = 0;
      await new Promise((r) => setTimeout(r, 800));
      assert.ok(timers.size > 0, 'the export created no timer: the hook sees nothing');
      assert.equal(fired, 0, `${timers.size} timer(s) of the export fired ${fired} time(s) within the keepalive interval`);
    } finally {
      hook.disable();
      await transport.close();
      await upstream.stop();
    }
  });

  it('is on by default in the shipped config: 30 s interval, 10 s timeout', () => {
    assert.deepEqual(defaultConfig().exporter.otlp.keepalive, { interval: 30_000, timeout: 10_000 });
  });
});

describe('proxies from the environment', () => {
  it('reads grpc_proxy, then https_proxy, then http_proxy for gRPC; the scheme decides for HTTP; NO_PROXY exempts', () => {
    const env = { grpc_proxy: 'http://g:3128', HTTPS_PROXY: 'http://s:3128', http_proxy: 'p:3128' };
    assert.equal(proxyFor('grpc', 'collector', 4317, env)?.host, 'g:3128');
    assert.equal(proxyFor('grpc', 'collector', 4317, { HTTPS_PROXY: 'http://s:3128' })?.host, 's:3128');
    assert.equal(proxyFor('https', 'collector', 4318, env)?.host, 's:3128');
    assert.equal(proxyFor('http', 'collector', 4318, env)?.href, 'http://p:3128/');
    assert.equal(proxyFor('http', 'collector', 4318, { HTTPS_PROXY: 'http://s:3128' }), undefined);
    assert.equal(proxyFor('grpc', 'collector.example.com', 4317, { ...env, NO_PROXY: 'localhost,.example.com' }), undefined);
    assert.throws(() => proxyFor('grpc', 'collector', 4317, { grpc_proxy: 'socks5://p:1080' }), ProxyConfigError);
    assert.ok(noProxyExempts('*', 'anything', 1));
    assert.ok(noProxyExempts('127.0.0.1:4317', '127.0.0.1', 4317));
    assert.ok(!noProxyExempts('127.0.0.1:4317', '127.0.0.1', 4318));
    assert.ok(noProxyExempts('[::1]', '::1', 4317));
    assert.ok(!noProxyExempts('example.com', 'notexample.com', 4317));
  });

  it('names a proxy variable it cannot use without the credentials in it', () => {
    for (const value of ['socks5://user:Pw-913@p:1080', 'socks5://Tok-913@p:1080', 'http://user:Pw-913@']) {
      assert.throws(
        () => proxyFor('grpc', 'collector', 4317, { grpc_proxy: value }),
        (err: Error) => err instanceof ProxyConfigError && err.message.startsWith('grpc_proxy: "') && err.message.includes('***@') && !err.message.includes('-913'),
        value,
      );
    }
  });

  it('gRPC and HTTP exports go through a CONNECT tunnel, and NO_PROXY goes direct', async () => {
    const proxy = await startConnectProxy();
    const upstream = grpcServer();
    await listen(upstream.server, 0, '127.0.0.1');
    let httpPosts = 0;
    const httpServer = http.createServer((req, res) => req.resume().on('end', () => ((httpPosts += 1), res.writeHead(200).end())));
    await listen(httpServer, 0, '127.0.0.1');
    try {
      const grpcEndpoint = `127.0.0.1:${portOf(upstream.server)}`;
      const viaProxy = createTransport(config((c) => (c.telemetryflow.endpoint = grpcEndpoint)), 'test', { grpc_proxy: proxy.url });
      assert.deepEqual(await viaProxy.send(BODY, 3000), { outcome: 'ok' });
      await viaProxy.close();
      const httpEndpoint = `http://127.0.0.1:${portOf(httpServer)}`;
      const httpViaProxy = createTransport(config((c) => ((c.telemetryflow.protocol = 'http'), (c.telemetryflow.endpoint = httpEndpoint))), 'test', { HTTP_PROXY: proxy.url });
      assert.deepEqual(await httpViaProxy.send(BODY, 3000), { outcome: 'ok' });
      await httpViaProxy.close();
      assert.deepEqual(proxy.targets, [grpcEndpoint, `127.0.0.1:${portOf(httpServer)}`]);

      const direct = createTransport(config((c) => (c.telemetryflow.endpoint = grpcEndpoint)), 'test', { grpc_proxy: proxy.url, no_proxy: '127.0.0.1' });
      assert.deepEqual(await direct.send(BODY, 3000), { outcome: 'ok' });
      await direct.close();
      assert.equal(proxy.targets.length, 2, 'NO_PROXY bypassed the proxy');
      assert.equal(upstream.calls(), 2);
      assert.equal(httpPosts, 1);
    } finally {
      await proxy.close();
      await upstream.stop();
      httpServer.close();
    }
  });

  it('HTTPS goes through the tunnel with TLS end to end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfo-proxy-tls-'));
    const proxy = await startConnectProxy();
    const cert = makeCertificate(dir, 'collector');
    const server = https.createServer({ cert: cert.pem, key: require('node:fs').readFileSync(cert.keyFile) }, (req, res) => req.resume().on('end', () => res.writeHead(200).end()));
    await listen(server, 0, '127.0.0.1');
    try {
      const transport = createTransport(
        config((c) => ((c.telemetryflow.protocol = 'http'), (c.telemetryflow.endpoint = `https://127.0.0.1:${portOf(server)}`), (c.telemetryflow.tls.ca_file = cert.certFile))),
        'test',
        { https_proxy: proxy.url },
      );
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      await transport.close();
      assert.deepEqual(proxy.targets, [`127.0.0.1:${portOf(server)}`]);
    } finally {
      await proxy.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('name resolution and unix sockets', () => {
  it('tries every address of the name and resolves it again for each new connection', async () => {
    // Two collectors on one port at two loopback addresses; the name moves from one to the other.
    const second = grpcServer();
    await listen(second.server, 0, '127.0.0.2');
    const port = portOf(second.server);
    const first = grpcServer();
    await listen(first.server, port, '127.0.0.1');
    let answer: string[] = ['::1', '127.0.0.1'];
    let lookups = 0;
    const lookup = ((_name: string, _options: unknown, callback: (e: Error | null, addresses: Array<{ address: string; family: number }>) => void) => {
      lookups += 1;
      callback(null, answer.map((address) => ({ address, family: net.isIP(address) })));
    }) as unknown as net.LookupFunction;
    const transport = new GrpcTransport({ address: `collector.test:${port}`, headers: HEADERS, compression: 'none', lookup });
    try {
      // ::1 refuses (nothing listens there); 127.0.0.1 answers.
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      assert.equal(first.calls(), 1);
      answer = ['127.0.0.2'];
      await first.stop();
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      assert.equal(second.calls(), 1);
      assert.equal(lookups, 2);
    } finally {
      await transport.close();
      await second.stop();
    }
  });

  it('exports to a collector on a unix socket, over gRPC and HTTP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfo-unix-'));
    const upstream = grpcServer();
    await listen(upstream.server, join(dir, 'grpc.sock'));
    let posts: string[] = [];
    const httpServer = http.createServer((req, res) => req.resume().on('end', () => (posts.push(req.url ?? ''), res.writeHead(200).end())));
    await listen(httpServer, join(dir, 'http.sock'));
    try {
      const grpc = createTransport(config((c) => (c.telemetryflow.endpoint = `unix:${join(dir, 'grpc.sock')}`)), 'test', { grpc_proxy: 'http://127.0.0.1:1' });
      assert.deepEqual(await grpc.send(BODY, 3000), { outcome: 'ok' });
      await grpc.close();
      const viaHttp = createTransport(config((c) => ((c.telemetryflow.protocol = 'http'), (c.telemetryflow.endpoint = `unix://${join(dir, 'http.sock')}`))), 'test', {});
      assert.deepEqual(await viaHttp.send(BODY, 3000), { outcome: 'ok' });
      await viaHttp.close();
      assert.equal(upstream.calls(), 1);
      assert.deepEqual(posts, ['/v2/metrics']);
    } finally {
      await upstream.stop();
      httpServer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TLS files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-tls-source-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('are read once, again when one changes on disk or after SIGHUP, and a failed re-read keeps the last material', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'first');
    const source = new TlsSource({ enabled: true, skip_verify: false, ca_file: ca, cert_file: '', key_file: '' });
    const first = source.current();
    assert.equal(source.current(), first, 'unchanged files are not read again');
    writeFileSync(ca, 'second, longer');
    assert.equal(String(source.current().ca), 'second, longer');
    const second = source.current();
    rereadTlsFiles();
    assert.notEqual(source.current(), second);
    rmSync(ca);
    assert.equal(String(source.current().ca), 'second, longer');
  });

  it('an HTTPS export picks up a rotated CA file without a new transport', async () => {
    const oldCert = makeCertificate(dir, 'old');
    const newCert = makeCertificate(dir, 'new');
    const caFile = join(dir, 'trusted.pem');
    writeFileSync(caFile, oldCert.pem);
    const key = (c: typeof oldCert) => require('node:fs').readFileSync(c.keyFile) as Buffer;
    const server = https.createServer({ cert: oldCert.pem, key: key(oldCert) }, (req, res) => req.resume().on('end', () => res.writeHead(200, { connection: 'close' }).end()));
    await listen(server, 0, '127.0.0.1');
    const transport = new HttpTransport({ url: `https://127.0.0.1:${portOf(server)}/v1/metrics`, headers: HEADERS, compression: 'none', tls: new TlsSource({ enabled: true, skip_verify: false, ca_file: caFile, cert_file: '', key_file: '' }) });
    try {
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
      server.setSecureContext({ cert: newCert.pem, key: key(newCert) });
      writeFileSync(caFile, newCert.pem);
      assert.deepEqual(await transport.send(BODY, 3000), { outcome: 'ok' });
    } finally {
      await transport.close();
      server.close();
    }
  });
});
