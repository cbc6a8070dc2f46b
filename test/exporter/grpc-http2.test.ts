// The gRPC transport against a bare HTTP/2 server on loopback that answers the way proxies and
// collectors do at the edges the grpc-js receiver never produces: HTTP errors without a gRPC
// status, trailers-only answers, refused streams, GOAWAY, compressed answers.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GrpcTransport, GRPC_EXPORT_METHOD } from '../../internal/exporter/grpc-transport';
import { GrpcStatus } from '../../internal/exporter/grpc-status';
import type { SendResult } from '../../internal/exporter/types';
import { failure } from './fixtures';

const TIMEOUT_MS = 5000;
const BODY = Buffer.from('an already serialized ExportMetricsServiceRequest');

type Answer = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

interface Received {
  headers: http2.IncomingHttpHeaders;
  message: Buffer;
}

/** ExportMetricsServiceResponse{partial_success{rejected_data_points, error_message}}. */
function partialSuccessResponse(rejected: number, message: string): Buffer {
  const text = Buffer.from(message);
  const partial = Buffer.concat([Buffer.from([0x08, rejected, 0x12, text.length]), text]);
  return Buffer.concat([Buffer.from([0x0a, partial.length]), partial]);
}

function frame(message: Buffer, compressed: boolean): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

const ok: Answer = (stream) => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame(Buffer.alloc(0), false));
};

describe('gRPC transport at the edges of HTTP/2', () => {
  let server: http2.Http2Server;
  let address: string;
  const received: Received[] = [];
  let answers: Answer[] = [];

  const serverSessions = new Set<http2.Http2Session>();
  before(async () => {
    server = http2.createServer();
    server.on('session', (session) => serverSessions.add(session));
    server.on('stream', (stream, headers) => {
      // Resetting a stream (the refused ones below) raises an error on this side too.
      stream.on('error', () => undefined);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        const message = body.subarray(5);
        received.push({ headers, message: body[0] === 1 ? gunzipSync(message) : message });
        (answers.shift() ?? ok)(stream, headers);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of serverSessions) session.destroy();
    await closed;
  });
  beforeEach(() => {
    received.length = 0;
    answers = [];
  });

  const transport = (compression: 'gzip' | 'none' = 'gzip') =>
    new GrpcTransport({ address, headers: { 'User-Agent': 'tfo-agent/0.0.0 (test)', 'X-Scope-OrgID': 'tenant-7' }, compression });

  async function withTransport(compression: 'gzip' | 'none', use: (t: GrpcTransport) => Promise<void>): Promise<void> {
    const t = transport(compression);
    try {
      await use(t);
    } finally {
      await t.close();
    }
  }

  async function sendThrough(t: GrpcTransport): Promise<SendResult> {
    return t.send(BODY, TIMEOUT_MS);
  }


  it('sends a gRPC request: method, framing, gzip at the wire, deadline, metadata lowercased', async () => {
    await withTransport('gzip', async (t) => {
      assert.deepEqual(await sendThrough(t), { outcome: 'ok' });
      const [{ headers, message }] = received;
      assert.equal(headers[':path'], GRPC_EXPORT_METHOD);
      assert.equal(headers['content-type'], 'application/grpc');
      assert.equal(headers.te, 'trailers');
      assert.equal(headers['grpc-encoding'], 'gzip');
      assert.match(String(headers['grpc-timeout']), /^\d+m$/);
      assert.equal(headers['x-scope-orgid'], 'tenant-7');
      assert.equal(headers['user-agent'], 'tfo-agent/0.0.0 (test)');
      assert.deepEqual(message, BODY);
    });
  });

  it('an HTTP error without grpc-status is mapped as gRPC maps it', async () => {
    const cases: Array<[number, string]> = [
      [401, 'credentials'],
      [404, 'rejected'],
      [503, 'unavailable'],
      [502, 'unavailable'],
      [500, 'server_error'],
    ];
    await withTransport('gzip', async (t) => {
      for (const [status, reason] of cases) {
        answers.push((stream) => {
          stream.respond({ ':status': status, 'content-type': 'text/plain' });
          stream.end('from a proxy');
        });
        const r = failure(await sendThrough(t));
        assert.equal(r.reason, reason, `HTTP ${status}: ${r.message}`);
        assert.match(r.message, new RegExp(`HTTP ${status} without a gRPC status`));
      }
    });
  });

  it('a trailers-only answer carries the status and its percent-encoded message', async () => {
    await withTransport('gzip', async (t) => {
      answers.push((stream) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(GrpcStatus.PERMISSION_DENIED), 'grpc-message': 'key%20revoked%3A%20rotate%20it' }, { endStream: true });
      });
      const r = failure(await sendThrough(t));
      assert.equal(r.outcome, 'retryable');
      assert.equal(r.reason, 'credentials');
      assert.equal(r.message, 'PERMISSION_DENIED: key revoked: rotate it');
      assert.equal(r.status, GrpcStatus.PERMISSION_DENIED);
    });
  });

  it('a gzip-compressed answer is read: the partial success arrives', async () => {
    await withTransport('none', async (t) => {
      answers.push((stream) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(gzipSync(partialSuccessResponse(3, 'too old')), true));
      });
      assert.deepEqual(await sendThrough(t), { outcome: 'ok', partialSuccess: { rejectedDataPoints: 3, errorMessage: 'too old' } });
      assert.equal(received[0].headers['grpc-encoding'], undefined, 'compression none sends no grpc-encoding');
      assert.deepEqual(received[0].message, BODY);
    });
  });

  it('a stream refused on a used session goes again once on a fresh session; refused twice is unavailable', async () => {
    await withTransport('gzip', async (t) => {
      assert.equal((await sendThrough(t)).outcome, 'ok');
      answers.push((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
      assert.deepEqual(await sendThrough(t), { outcome: 'ok' }, 'the second attempt is delivered');
      assert.equal(received.length, 3);
      answers.push((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
      answers.push((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
      const r = failure(await sendThrough(t));
      assert.equal(r.outcome, 'retryable');
      assert.equal(r.reason, 'unavailable', r.message);
      assert.equal(received.length, 5, 'refused twice: one transparent retry, not more');
      answers.push((stream) => stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM));
      const calm = failure(await sendThrough(t));
      assert.equal(calm.reason, 'throttled', calm.message);
      // Any other reset is the connection's trouble, not a verdict on the data: kept and retried.
      answers.push((stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
      const reset = failure(await sendThrough(t));
      assert.equal(reset.outcome, 'retryable', reset.message);
    });
  });

  it('a session the collector closed with GOAWAY is replaced: the next call is delivered', async () => {
    await withTransport('gzip', async (t) => {
      answers.push((stream) => {
        ok(stream, {});
        stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR);
      });
      assert.equal((await sendThrough(t)).outcome, 'ok');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(await sendThrough(t), { outcome: 'ok' });
      assert.equal(received.length, 2);
    });
  });

  it('no answer headers by the deadline: timeout, and the next call uses a new session', async () => {
    const t = transport();
    const sessions = new Set<http2.Http2Session>();
    const onStream = (stream: http2.ServerHttp2Stream) => stream.session && sessions.add(stream.session);
    server.on('stream', onStream);
    try {
      answers.push(() => undefined); // never answers
      const r = failure(await t.send(BODY, 300));
      assert.equal(r.outcome, 'retryable');
      assert.equal(r.reason, 'timeout');
      assert.deepEqual(await sendThrough(t), { outcome: 'ok' });
      assert.equal(sessions.size, 2, 'the silent session was dropped');
    } finally {
      server.off('stream', onStream);
      await t.close();
    }
  });
});
