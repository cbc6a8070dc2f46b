import type { Protocol } from '../config/types';
import type { Signal } from './endpoint';

/**
 * Why a send failed, in words an operator can act on. Whether it is retried is the outcome's
 * (docs/EXPORT.md's table).
 */
export type FailureReason =
  | 'connection_refused'
  | 'connection_reset'
  | 'timeout'
  | 'dns'
  | 'tls'
  | 'credentials' // HTTP 401/403, gRPC UNAUTHENTICATED/PERMISSION_DENIED: retried, credentials get fixed
  | 'unavailable' // gRPC UNAVAILABLE, HTTP 502/503/504
  | 'throttled' // HTTP 429, gRPC RESOURCE_EXHAUSTED with a RetryInfo
  | 'aborted' // gRPC ABORTED/OUT_OF_RANGE/DATA_LOSS: the collector gave up on this attempt
  | 'server_error' // rejected: HTTP 500/501/505+, gRPC INTERNAL/UNKNOWN
  | 'request_timeout' // HTTP 408, gRPC DEADLINE_EXCEEDED
  | 'too_large' // rejected: HTTP 413, gRPC RESOURCE_EXHAUSTED without a RetryInfo (over the receive limit)
  | 'rejected' // HTTP 400 and other 4xx, gRPC INVALID_ARGUMENT and other non-retryable codes
  | 'network'; // any other socket-level failure

/** Why a send failed, as the collector or the socket said it. */
export interface SendFailureDetail {
  reason: FailureReason;
  /** The collector's own message, or the socket error's. Never contains credentials. */
  message: string;
  /** HTTP status code or gRPC status code, when the collector answered. */
  status?: number;
  /** From Retry-After (HTTP 429/503) or gRPC retry pushback. */
  retryAfterMs?: number;
}

/**
 * The outcome of sending one encoded OTLP request. Retryable and rejected are separate members
 * so that `Extract<SendResult, { outcome: 'retryable' }>` names the retryable one.
 */
export type SendResult =
  | {
      outcome: 'ok';
      /** The collector accepted the request but dropped some points (OTLP partial success). */
      partialSuccess?: { rejectedDataPoints: number; errorMessage: string };
    }
  | ({ outcome: 'retryable' } & SendFailureDetail)
  | ({ outcome: 'rejected' } & SendFailureDetail);

/**
 * Sends one serialized ExportMetricsServiceRequest (OTLP protobuf bytes) to the collector.
 * Live exports and buffer replays go through the same transport, so they share endpoint, TLS,
 * headers, compression and protocol. Transports never retry on their own: the caller decides.
 */
export interface OtlpTransport {
  readonly protocol: Protocol;
  /** The endpoint, for logs (no credentials). */
  readonly target: string;
  send(body: Uint8Array, timeoutMs: number): Promise<SendResult>;
  close(): Promise<void>;
}

/** One export's worth of data, serialized once; what the buffer stores and replays. */
export interface EncodedBatch {
  body: Uint8Array;
  /** Data points in the batch, for accounting. */
  points: number;
  /** Wall-clock ms when the batch was produced. */
  createdAt: number;
  /** What the body is a request of; absent: metrics. */
  signal?: Signal;
}

/**
 * Where the live exporter hands a batch whose send failed for a retryable reason. The buffer
 * implements it; it must have stored the batch (or counted it dropped) before it resolves.
 */
export interface SpillSink {
  spill(batch: EncodedBatch, failure: Extract<SendResult, { outcome: 'retryable' }>): Promise<void>;
}

/** The outcome of the last live export, for `/health`. */
export interface ExportStatus {
  /** Wall-clock ms when the export finished. */
  at: number;
  /** Whether the collector accepted the batch. */
  ok: boolean;
  /** Why not (a FailureReason, or `encode_error` / `spill_error`); absent when ok. */
  reason?: string;
  /** The collector's or the socket's message; absent when ok. */
  message?: string;
  /** Data points in the batch. */
  points: number;
  /** The batch failed but was handed to the buffer, which will replay it. */
  spilled?: boolean;
}
