import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_LIMITS, ApiListenError, ApiTlsError, bearerMatches, sendJson, startApiServer, type ApiServer, type Route } from '../../internal/api/server';
import { defaultConfig } from '../../internal/config/defaults';
import type { ApiConfig } from '../../internal/config/types';
import { TlsFileError } from '../../internal/exporter/tls';
import { createLogger } from '../../internal/log/logger';
import { apiGet } from '../support/api-client';
import { makeCertificate, rotatingCertificate } from '../support/certs';
import { idleSockets } from '../support/sockets';
import { until } from '../support/wait';
import { createHash } from 'node:crypto';

const dir = mkdtempSync(join(tmpdir(), 'tfo-api-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'correct-horse-battery-staple';

function apiConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return { ...defaultConfig().api, enabled: true, address: '127.0.0.1:0', ...overrides };
}

const ROUTES: Route[] = [
  { path: '/open', public: true, handle: ({ res }) => sendJson(res, 200, { open: true }) },
  { path: '/secret', handle: ({ res, url }) => sendJson(res, 200, { secret: true, q: url.searchParams.get('q') }) },
];

/** Log lines the server wrote, as text, to check that no token ever reaches them. */
function capture(): { logger: ReturnType<typeof createLogger>; text(): string } {
  let text = '';
  const destination = { write: (line: string) => ((text += line), true) } as unknown as NodeJS.WritableStream;
  return { logger: createLogger({ level: 'debug', format: 'json', destination }), text: () => text };
}

describe('bearer comparison', () => {
  const expected = createHash('sha256').update(TOKEN).digest();
  it('accepts only the exact token after "Bearer "', () => {
    assert.equal(bearerMatches(`Bearer ${TOKEN}`, expected), true);
    assert.equal(bearerMatches(`bearer ${TOKEN}`, expected), true, 'the scheme is case-insensitive (RFC 7235)');
    assert.equal(bearerMatches(`Bearer ${TOKEN}x`, expected), false);
    assert.equal(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}`, expected), false);
    assert.equal(bearerMatches(`Basic ${TOKEN}`, expected), false);
    assert.equal(bearerMatches(TOKEN, expected), false);
    assert.equal(bearerMatches(undefined, expected), false);
    assert.equal(bearerMatches('Bearer ', expected), false);
  });
});

for (const scheme of ['http', 'https'] as const) {
  describe(`the listener over ${scheme}`, () => {
    const cert = scheme === 'https' ? makeCertificate(dir, `listener-${scheme}`) : undefined;
    const tls = cert ? { cert_file: cert.certFile, key_file: cert.keyFile } : { cert_file: '', key_file: '' };
    let server: ApiServer;
    const logs = capture();
    const base = (): string => `${scheme}://${server.address}`;
    const get = (path: string, options: Parameters<typeof apiGet>[1] = {}) => apiGet(base() + path, { ca: cert?.pem, ...options });

    before(async () => {
      server = await startApiServer(apiConfig({ token: TOKEN, tls }), ROUTES, logs.logger);
    });
    after(() => server.close());

    it('starts on an ephemeral loopback port', () => {
      assert.equal(server.scheme, scheme);
      assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    });

    it('answers a public route without a token, even when a token is set', async () => {
      const answer = await get('/open');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json(), { open: true });
    });

    it('asks for the token with 401 and WWW-Authenticate: Bearer', async () => {
      const cases: Array<[string, Parameters<typeof apiGet>[1], RegExp]> = [
        ['no token', {}, /^Bearer realm="tfo-agent"$/],
        ['a wrong token of the same length', { token: TOKEN.replace('c', 'k') }, /error="invalid_token"/],
        ['a shorter token', { token: 'short' }, /error="invalid_token"/],
        ['a longer token', { token: `${TOKEN}-and-more` }, /error="invalid_token"/],
        ['another scheme', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, /error="invalid_token"/],
      ];
      for (const [what, options, challenge] of cases) {
        const answer = await get('/secret', options);
        assert.equal(answer.status, 401, what);
        assert.match(String(answer.headers['www-authenticate']), challenge, what);
        assert.match(answer.json<{ error: string }>().error, /unauthorized/, what);
        assert.doesNotMatch(answer.text, new RegExp(TOKEN), what);
      }
    });

    it('answers the right token', async () => {
      const answer = await get('/secret?q=1', { token: TOKEN });
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json(), { secret: true, q: '1' });
    });

    it('404 lists the paths; other methods get 405; HEAD has no body', async () => {
      const missing = await get('/nope', { token: TOKEN });
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.json<{ paths: string[] }>().paths, ['/open', '/secret']);
      const post = await get('/secret', { token: TOKEN, method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET, HEAD');
      const head = await get('/secret', { token: TOKEN, method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.text, '');
    });

    it('never logs the token', () => {
      assert.match(logs.text(), /api\.listening/);
      assert.doesNotMatch(logs.text(), new RegExp(TOKEN));
    });
  });
}

describe('without a token', () => {
  it('every route answers on loopback', async () => {
    const server = await startApiServer(apiConfig(), ROUTES, capture().logger);
    after(() => server.close());
    const answer = await apiGet(`http://${server.address}/secret`);
    assert.equal(answer.status, 200);
  });
});

describe('certificate rotation', () => {
  it('reloadTls serves the new certificate to new connections; a broken one keeps the old', async () => {
    const { certFile, keyFile, first, second, rotate } = rotatingCertificate(dir, 'rotate');
    const logs = capture();
    const server = await startApiServer(apiConfig({ tls: { cert_file: certFile, key_file: keyFile } }), ROUTES, logs.logger);
    after(() => server.close());
    const url = `https://${server.address}/open`;
    assert.equal((await apiGet(url, { ca: first.pem })).peerCommonName, 'rotate first');

    rotate();
    server.reloadTls();
    assert.equal((await apiGet(url, { ca: second.pem })).peerCommonName, 'rotate second');
    await assert.rejects(apiGet(url, { ca: first.pem }), /self.signed|unable to verify|certificate/i, 'the old one is gone');

    writeFileSync(certFile, 'not a certificate');
    server.reloadTls();
    assert.match(logs.text(), /api\.tls_reload_failed/);
    assert.equal((await apiGet(url, { ca: second.pem })).peerCommonName, 'rotate second', 'the previous pair stays in use');

    rmSync(keyFile);
    server.reloadTls();
    assert.match(logs.text(), /api\.tls_reload_failed.*api\.tls\.key_file: cannot read/);
    assert.equal((await apiGet(url, { ca: second.pem })).peerCommonName, 'rotate second', 'a key file gone mid-rotation keeps the pair in use');
  });
});

describe('certificate files at start', () => {
  it('a file that cannot be read, or a pair that does not load, fails naming its api.tls key', async () => {
    const cert = makeCertificate(dir, 'start-files');
    const missing = join(dir, 'no-such.key');
    await assert.rejects(startApiServer(apiConfig({ tls: { cert_file: cert.certFile, key_file: missing } }), ROUTES, capture().logger), (err: unknown) => {
      assert.ok(err instanceof TlsFileError);
      assert.equal(err.message.split(': cannot read')[0], 'api.tls.key_file');
      assert.match(err.message, /no-such\.key.*ENOENT/);
      return true;
    });
    const notPem = join(dir, 'not-pem.crt');
    writeFileSync(notPem, 'not a certificate');
    await assert.rejects(startApiServer(apiConfig({ tls: { cert_file: notPem, key_file: cert.keyFile } }), ROUTES, capture().logger), (err: unknown) => {
      assert.ok(err instanceof ApiTlsError);
      assert.match(err.message, /^api\.tls\.cert_file: ".*not-pem\.crt": does not load with api\.tls\.key_file/);
      return true;
    });
  });
});

describe('binding', () => {
  it('an address in use fails with ApiListenError naming api.address', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    await assert.rejects(startApiServer(apiConfig({ address: `127.0.0.1:${port}` }), ROUTES, capture().logger), (err: unknown) => {
      assert.ok(err instanceof ApiListenError);
      assert.match(err.message, /^api\.address 127\.0\.0\.1:\d+ is already in use/);
      return true;
    });
  });
});

for (const scheme of ['http', 'https'] as const) {
  describe(`connection limits over ${scheme}`, () => {
    const cert = scheme === 'https' ? makeCertificate(dir, `limits-${scheme}`) : undefined;
    const tls = cert ? { cert_file: cert.certFile, key_file: cert.keyFile } : { cert_file: '', key_file: '' };
    const get = (server: ApiServer) => apiGet(`${scheme}://${server.address}/secret`, { ca: cert?.pem, token: TOKEN });

    it('closes connections beyond the cap at once; the API answers again once they go', async () => {
      const server = await startApiServer(apiConfig({ token: TOKEN, tls }), ROUTES, capture().logger);
      const extra = 10;
      const idle = await idleSockets(server.address, API_LIMITS.maxConnections + extra);
      try {
        await until(`${extra} connections over the cap closed`, () => (idle.closed() >= extra ? true : undefined), 5_000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(idle.closed(), extra, 'the connections within the cap stay until their timeout');
        for (const socket of idle.sockets) socket.destroy();
        await until('every idle connection gone', () => (idle.closed() === idle.sockets.length ? true : undefined), 2_000);
        assert.equal((await get(server)).status, 200);
      } finally {
        for (const socket of idle.sockets) socket.destroy();
        await server.close();
      }
    });

    it('closes a silent connection and a slow-headers one after their timeouts', async () => {
      const limits = { maxConnections: 4, headersTimeoutMs: 300, idleTimeoutMs: 600 };
      const server = await startApiServer(apiConfig({ token: TOKEN, tls }), ROUTES, capture().logger, limits);
      const idle = await idleSockets(server.address, 2);
      // Slowloris: a request line, then one header byte every 100 ms, never the end of the headers
      // (over TLS the bytes are not a handshake: the server must close it all the same).
      idle.sockets[1]!.write('GET /secret HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => idle.sockets[1]!.writable && idle.sockets[1]!.write('X'), 100);
      try {
        await until('both closed', () => (idle.closed() === 2 ? true : undefined), 5_000);
        assert.equal((await get(server)).status, 200);
      } finally {
        clearInterval(trickle);
        for (const socket of idle.sockets) socket.destroy();
        await server.close();
      }
    });
  });
}
