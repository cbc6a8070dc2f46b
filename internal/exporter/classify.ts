// Turns what a send ended with (a socket error, an HTTP status, a gRPC status) into a SendResult:
// retryable or rejected, with a reason an operator can act on and the collector's own words.
import { GrpcStatus } from './grpc-status';
import { decodeExportResponse } from './rpc-status';
import type { FailureReason, SendResult } from './types';

export type FailureResult = Extract<SendResult, { outcome: 'retryable' | 'rejected' }>;

/** Collector messages are cut to this many characters; a whole HTML error page helps nobody. */
export const MAX_MESSAGE_CHARS = 512;

/** Removes every occurrence of each secret from a text, then truncates it. */
export type Scrubber = (text: string) => string;

export function createScrubber(secrets: readonly string[]): Scrubber {
  const values = secrets.filter((s) => s.length > 0);
  return (text) => {
    let out = text.trim();
    for (const secret of values) out = out.split(secret).join('***');
    return out.length > MAX_MESSAGE_CHARS ? `${out.slice(0, MAX_MESSAGE_CHARS - 1)}…` : out;
  };
}

function retryable(reason: FailureReason, message: string, extra: { status?: number; retryAfterMs?: number } = {}): FailureResult {
  return { outcome: 'retryable', reason, message, ...extra };
}

// Node's TLS verification error codes (from OpenSSL) and its own TLS codes.
const TLS_ERROR_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'EPROTO',
]);

/** Socket-level failure reasons by error code, for both transports. */
export function reasonForErrorCode(code: string | undefined): FailureReason {
  if (code === undefined) return 'network';
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE') return 'connection_reset';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') return 'dns';
  if (TLS_ERROR_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'tls';
  return 'network';
}

/** A socket error before any response: always retryable, the collector never saw the data. */
export function classifySocketError(error: NodeJS.ErrnoException, scrub: Scrubber): FailureResult {
  const reason = reasonForErrorCode(error.code);
  const text = error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
  return retryable(reason, scrub(text));
}

/**
 * A success answer: an ExportMetricsServiceResponse whose partial_success says whether the
 * collector dropped points. An unreadable body is still a success; the request was accepted.
 */
export function acceptedResult(body: Uint8Array, scrub: Scrubber): SendResult {
  if (body.length === 0) return { outcome: 'ok' };
  const partial = decodeExportResponse(body);
  if (partial === undefined || (partial.rejectedDataPoints === 0 && partial.errorMessage === '')) return { outcome: 'ok' };
  return { outcome: 'ok', partialSuccess: { rejectedDataPoints: partial.rejectedDataPoints, errorMessage: scrub(partial.errorMessage) } };
}

function rejected(reason: FailureReason, message: string, extra: { status?: number; retryAfterMs?: number } = {}): FailureResult {
  return { outcome: 'rejected', reason, message, ...extra };
}

/**
 * What an HTTP status means for the batch, as docs/EXPORT.md's table says. OTLP/HTTP retries 429,
 * 502, 503 and 504 only; we also keep 401/403 (credentials are rotated and fixed; the data is
 * still good) and 408 (the server gave up waiting for our request: nothing about the data).
 * Everything else is a verdict on this request: rejected, so the buffer quarantines it.
 */
export function classifyHttpStatus(status: number, message: string, retryAfterMs: number | undefined): SendResult {
  if (status >= 200 && status < 300) return { outcome: 'ok' };
  const extra = { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (status === 401 || status === 403) return retryable('credentials', message, extra);
  if (status === 408) return retryable('request_timeout', message, extra);
  if (status === 429) return retryable('throttled', message, extra);
  if (status === 502 || status === 503 || status === 504) return retryable('unavailable', message, extra);
  if (status === 413) return rejected('too_large', message, extra);
  return rejected(status >= 500 ? 'server_error' : 'rejected', message, extra);
}

/**
 * A gRPC UNAVAILABLE carries the cause only in its text (a proxy's "upstream connect error",
 * a collector's "connection refused" to its own backend).
 */
function unavailableReason(details: string): FailureReason {
  if (/ECONNREFUSED/.test(details)) return 'connection_refused';
  if (/ECONNRESET|EPIPE|Connection dropped|socket hang up/i.test(details)) return 'connection_reset';
  if (/ENOTFOUND|EAI_AGAIN|Name resolution failed|DNS resolution failed/i.test(details)) return 'dns';
  if (/certificate|SSL|TLS|self[- ]signed|handshake/i.test(details)) return 'tls';
  return 'unavailable';
}

export interface GrpcFailure {
  code: number;
  details: string;
  retryAfterMs?: number;
}

/**
 * What a gRPC status means for the batch, as docs/EXPORT.md's table says: the OTLP retryable set
 * (CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and
 * RESOURCE_EXHAUSTED only with a RetryInfo), plus UNAUTHENTICATED and PERMISSION_DENIED
 * (credentials get fixed). RESOURCE_EXHAUSTED without RetryInfo is how a collector refuses a
 * request over its receive limit: `too_large`. INTERNAL, UNKNOWN and the rest are rejected.
 */
export function classifyGrpcStatus(failure: GrpcFailure, scrub: Scrubber): FailureResult {
  const { code, retryAfterMs } = failure;
  const message = scrub(`${GrpcStatus[code] ?? code}: ${failure.details}`);
  const extra = { status: code, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  switch (code) {
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      return retryable('credentials', message, extra);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return retryable('request_timeout', message, extra);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return retryAfterMs !== undefined ? retryable('throttled', message, extra) : rejected('too_large', message, extra);
    case GrpcStatus.UNAVAILABLE:
      return retryable(unavailableReason(failure.details), message, extra);
    case GrpcStatus.CANCELLED:
      return retryable('connection_reset', message, extra);
    case GrpcStatus.ABORTED:
    case GrpcStatus.OUT_OF_RANGE:
    case GrpcStatus.DATA_LOSS:
      return retryable('aborted', message, extra);
    case GrpcStatus.INTERNAL:
    case GrpcStatus.UNKNOWN:
      return rejected('server_error', message, extra);
    default:
      return rejected('rejected', message, extra);
  }
}
