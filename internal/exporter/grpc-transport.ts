// OTLP/gRPC: unary MetricsService/Export calls on one long-lived channel. The request bytes are
// already serialized, so the client passes them through instead of loading a .proto.
import * as grpc from '@grpc/grpc-js';
import { createSecureContext } from 'node:tls';
import type { Compression } from '../config/types';
import { acceptedResult, classifyGrpcStatus, createScrubber, type Scrubber } from './classify';
import { checkHeaders, HeaderError, secretHeaderValues } from './headers';
import { decodeRpcStatus } from './rpc-status';
import { MIN_TLS_VERSION, type TlsMaterial } from './tls';
import type { OtlpTransport, SendResult } from './types';

export const GRPC_EXPORT_METHOD = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

// A collector that went away is retried by the channel on this schedule; a short ceiling keeps
// the first export after it returns from failing fast on a channel still backing off.
const INITIAL_RECONNECT_BACKOFF_MS = 250;
const MAX_RECONNECT_BACKOFF_MS = 2000;

export interface GrpcTransportOptions {
  /** `host:port`. */
  address: string;
  /** TLS material; undefined for a plaintext channel. */
  tls?: TlsMaterial;
  headers: Record<string, string>;
  compression: Compression;
}

function channelCredentials(tls: TlsMaterial | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  const context = createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: MIN_TLS_VERSION });
  return grpc.credentials.createFromSecureContext(
    context,
    tls.skipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : { rejectUnauthorized: true },
  );
}

function buildMetadata(headers: Record<string, string>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [name, value] of Object.entries(headers)) {
    // grpc-js sends its own user-agent; ours goes in front of it through grpc.primary_user_agent.
    if (name.toLowerCase() === 'user-agent') continue;
    try {
      metadata.set(name.toLowerCase(), value);
    } catch {
      throw new HeaderError(name, 'not a valid gRPC metadata key');
    }
  }
  return metadata;
}

const passThrough = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export class GrpcTransport implements OtlpTransport {
  readonly protocol = 'grpc' as const;
  readonly target: string;
  private readonly client: grpc.Client;
  private readonly metadata: grpc.Metadata;
  private readonly scrub: Scrubber;
  private closed = false;

  constructor(options: GrpcTransportOptions) {
    this.target = `${options.tls ? 'grpcs' : 'grpc'}://${options.address}`;
    checkHeaders(options.headers);
    this.metadata = buildMetadata(options.headers);
    this.scrub = createScrubber(secretHeaderValues(options.headers));
    const userAgent = Object.entries(options.headers).find(([name]) => name.toLowerCase() === 'user-agent')?.[1];
    this.client = new grpc.Client(options.address, channelCredentials(options.tls), {
      'grpc.default_compression_algorithm': options.compression === 'gzip' ? grpc.compressionAlgorithms.gzip : grpc.compressionAlgorithms.identity,
      // The caller decides about retries (the buffer), so the channel must not retry behind it.
      'grpc.enable_retries': 0,
      'grpc.initial_reconnect_backoff_ms': INITIAL_RECONNECT_BACKOFF_MS,
      'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
      ...(userAgent ? { 'grpc.primary_user_agent': userAgent } : {}),
    });
  }

  send(body: Uint8Array, timeoutMs: number): Promise<SendResult> {
    if (this.closed) return Promise.resolve({ outcome: 'retryable', reason: 'network', message: `transport to ${this.target} is closed` });
    const started = performance.now();
    return new Promise((resolve) => {
      this.client.makeUnaryRequest<Uint8Array, Buffer>(
        GRPC_EXPORT_METHOD,
        passThrough,
        (bytes) => bytes,
        body,
        this.metadata.clone(),
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          if (!error) {
            resolve(acceptedResult(response ?? Buffer.alloc(0), this.scrub));
            return;
          }
          const details = error.metadata?.get('grpc-status-details-bin')[0];
          const retryAfterMs = Buffer.isBuffer(details) ? decodeRpcStatus(details)?.retryAfterMs : undefined;
          // grpc-js reports our own deadline with the same code a collector would use.
          const ownDeadline = performance.now() - started >= timeoutMs * 0.9;
          resolve(classifyGrpcStatus({ code: error.code, details: error.details, retryAfterMs, ownDeadline }, this.scrub));
        },
      );
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.close();
  }
}
