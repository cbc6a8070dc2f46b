// GET /status/stream: the status page's live feed. One long response per open tab instead of one
// request per interval (a request costs the agent more than the page's whole budget): lines of
// JSON, each written as the sampler produces a sample, and the /status header when it changes.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log/logger';
import { errorMessage } from '../log/logger';
import type { Clock } from '../procfs/host';
import type { ApiContext } from './context';
import type { Sample } from './sample';
import { sendJson, type Route } from './server';
import { sinceParameter, statusBody } from './status';

export const STREAM_CONTENT_TYPE = 'application/x-ndjson; charset=utf-8';

export interface LiveFeedLimits {
  /** Streams open at once; one more is answered 503. A tab holds one. */
  maxStreams: number;
  /** A stream's unsent bytes beyond its catch-up before it is dropped (a client that stopped reading). */
  maxBacklogBytes: number;
  /** The header's refresh when nothing it counts has moved (uptime, the buffer's age, the heartbeat). */
  statusMaxAgeMs: number;
  /** The longest the streams stay silent: when no sample comes (a long api.collect_interval), a status line. */
  keepAliveMs: number;
}

// 256 KiB: several minutes of samples. keep-alive: half the listener's idle timeout (LocalApi sets it from its limits).
export const LIVE_FEED_LIMITS: LiveFeedLimits = { maxStreams: 8, maxBacklogBytes: 256 * 1024, statusMaxAgeMs: 30_000, keepAliveMs: 15_000 };

// The catch-up a stream starts with: ten minutes at the shortest api.collect_interval (100 ms).
export const MAX_CATCH_UP_SAMPLES = 6_000;

/** Where a stream's lines go: a ServerResponse in the agent. */
export interface StreamTarget {
  write(line: string): boolean;
  end(): unknown;
  destroy(): unknown;
  /** Bytes written and not yet taken by the connection. */
  readonly writableLength: number;
  once(event: 'close', listener: () => void): unknown;
}

interface Stream {
  target: StreamTarget;
  /** Unsent bytes beyond which it is dropped: its catch-up plus the limit. */
  allowance: number;
}

export const sampleLine = (sample: Sample): string => `{"sample":${JSON.stringify(sample)}}\n`;
export const statusLine = (status: unknown): string => `{"status":${JSON.stringify(status)}}\n`;

/** What builds the header, and a number that changes whenever what it counts does (cheap, asked each sample). */
export interface StatusSource {
  build(): Promise<unknown>;
  version(): number;
}

/**
 * The open streams, fed from the sampler: each new sample is serialized once and written to every
 * stream, with no timer of its own per stream; the header with the sample after it changed (an
 * export, a collection) or after statusMaxAgeMs. A stream leaves when its client goes (the
 * response closes), when it falls too far behind (dropped), or when the feed closes.
 */
export class LiveFeed {
  private readonly streams = new Set<Stream>();
  private lastStatusAt = -Infinity;
  private lastVersion = NaN;
  private lastWriteAt = -Infinity;
  private keepAlive: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly status: StatusSource,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly limits: LiveFeedLimits = LIVE_FEED_LIMITS,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  get full(): boolean {
    return this.streams.size >= this.limits.maxStreams;
  }

  /** Starts a stream with `first` (the header and the catch-up); false when the feed is full or closed. */
  open(target: StreamTarget, first: string): boolean {
    if (this.closed || this.full) return false;
    const stream: Stream = { target, allowance: Buffer.byteLength(first) + this.limits.maxBacklogBytes };
    this.streams.add(stream);
    target.once('close', () => this.remove(stream));
    target.write(first);
    if (this.keepAlive === undefined) {
      const every = this.limits.keepAliveMs / 2;
      this.keepAlive = setInterval(() => this.clock.monotonic() - this.lastWriteAt >= every && this.sendStatus(), every);
      this.keepAlive.unref();
    }
    return true;
  }

  /** A new sample from the sampler: one line to every stream, and the header when it changed or is due. */
  publish(sample: Sample): void {
    if (this.streams.size === 0) return;
    this.writeAll(sampleLine(sample));
    if (this.status.version() !== this.lastVersion || this.clock.monotonic() - this.lastStatusAt >= this.limits.statusMaxAgeMs) this.sendStatus();
  }

  /** Ends every stream (agent stop, reload); later opens are refused. */
  close(): void {
    this.closed = true;
    for (const stream of [...this.streams]) {
      this.remove(stream);
      stream.target.end();
    }
  }

  private sendStatus(): void {
    this.lastStatusAt = this.clock.monotonic();
    this.lastVersion = this.status.version();
    this.status.build().then(
      (status) => this.writeAll(statusLine(status)),
      (err: unknown) => this.logger.error({ event: 'api.stream_status_failed', err: errorMessage(err) }, 'live stream: status not built'),
    );
  }

  private writeAll(line: string): void {
    this.lastWriteAt = this.clock.monotonic();
    for (const stream of this.streams) {
      if (stream.target.writableLength > stream.allowance) this.drop(stream);
      else stream.target.write(line);
    }
  }

  private drop(stream: Stream): void {
    this.logger.warn({ event: 'api.stream_dropped', backlog_bytes: stream.target.writableLength }, 'live stream dropped: its client stopped reading');
    this.remove(stream);
    stream.target.destroy();
  }

  private remove(stream: Stream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}

/**
 * The response as a stream target, its lines written straight to the connection once the headers
 * are out: a line is one socket write, framed here as one HTTP/1.1 chunk (or sent as it is to an
 * HTTP/1.0 client, whose body ends when the connection closes). res.write would make four writes
 * of it (size, CRLF, line, CRLF) and uncork them a tick later, several times the interpreted work
 * of the line itself. A response still queued behind another on its connection keeps res.write.
 */
export function responseTarget(res: ServerResponse): StreamTarget {
  res.flushHeaders();
  const socket = res.socket;
  // Bytes res holds beyond the socket's own: the headers did not reach the connection.
  if (socket === null || res.writableLength !== socket.writableLength) return res;
  const chunked = res.chunkedEncoding;
  return {
    write: (line) => socket.write(chunked ? `${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n` : line),
    end: () => res.end(),
    destroy: () => res.destroy(),
    get writableLength() {
      return socket.writableLength;
    },
    once: (event, listener) => res.once(event, listener),
  };
}

/**
 * GET /status/stream[?since=T]: `{"status":…}` (the /status answer) first, then `{"sample":…}`
 * for each ring sample newer than T (at most MAX_CATCH_UP_SAMPLES), then a sample line as each
 * sample is taken and a status line when the header changed, until the client goes or the agent stops.
 */
export function statusStreamRoute(context: ApiContext): Route {
  const full = (): string => `too many live streams: ${context.live.size} are open, at most ${LIVE_FEED_LIMITS.maxStreams}; close a status page tab`;
  return {
    path: '/status/stream',
    handle: async ({ req, res, url }) => {
      const since = sinceParameter(res, url);
      if (since === null) return;
      if (context.live.full) return sendJson(res, 503, { error: full() });
      const status = await statusBody(context);
      // The client may have gone, or another stream taken the last place, while the status was built.
      if (res.destroyed) return;
      if (context.live.full) return sendJson(res, 503, { error: full() });
      res.writeHead(200, { 'content-type': STREAM_CONTENT_TYPE, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      if (req.method === 'HEAD') return void res.end();
      let first = statusLine(status);
      if (since !== undefined) for (const sample of context.ring.newerThan(since).slice(-MAX_CATCH_UP_SAMPLES)) first += sampleLine(sample);
      if (!context.live.open(responseTarget(res), first)) res.end();
    },
  };
}
