// Reads the small protobuf messages a collector answers with: google.rpc.Status (the OTLP/HTTP
// error body, and gRPC's grpc-status-details-bin trailer) with the google.rpc.RetryInfo inside its
// details, and the ExportMetricsServiceResponse of an accepted export (its partial_success). Only
// the few fields needed are read; anything malformed yields undefined, because an unreadable
// answer must not turn into an exporter crash.
import { capRetryAfter } from '../retry/backoff';

interface Field {
  field: number;
  /** Varint fields. */
  int?: bigint;
  /** Length-delimited fields. */
  bytes?: Uint8Array;
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new RangeError('truncated varint');
      const byte = this.buf[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new RangeError('varint too long');
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) throw new RangeError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function readFields(buf: Uint8Array): Field[] {
  const reader = new Reader(buf);
  const fields: Field[] = [];
  while (!reader.done) {
    const key = reader.varint();
    const field = Number(key >> 3n);
    switch (Number(key & 7n)) {
      case 0:
        fields.push({ field, int: reader.varint() });
        break;
      case 1:
        reader.take(8);
        break;
      case 2:
        fields.push({ field, bytes: reader.take(Number(reader.varint())) });
        break;
      case 5:
        reader.take(4);
        break;
      default:
        throw new RangeError('unsupported wire type');
    }
  }
  return fields;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

export interface RpcStatus {
  code: number;
  message: string;
  /** From a google.rpc.RetryInfo detail, when present. */
  retryAfterMs?: number;
}

/** Signed int32 from a varint (negative values are sign-extended to 64 bits on the wire). */
function int32(value: bigint | undefined): number {
  return value === undefined ? 0 : Number(BigInt.asIntN(32, value));
}

function retryDelayMs(retryInfo: Uint8Array): number | undefined {
  const duration = readFields(retryInfo).find((f) => f.field === 1)?.bytes;
  if (!duration) return undefined;
  const parts = readFields(duration);
  const seconds = Number(BigInt.asIntN(64, parts.find((f) => f.field === 1)?.int ?? 0n));
  const nanos = int32(parts.find((f) => f.field === 2)?.int);
  return capRetryAfter(Math.round(seconds * 1000 + nanos / 1e6));
}

/** Decodes a google.rpc.Status; undefined when the bytes are not one. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus | undefined {
  try {
    const status: RpcStatus = { code: 0, message: '' };
    for (const f of readFields(bytes)) {
      if (f.field === 1 && f.int !== undefined) status.code = int32(f.int);
      else if (f.field === 2 && f.bytes) status.message = utf8.decode(f.bytes);
      else if (f.field === 3 && f.bytes) {
        const any = readFields(f.bytes);
        const typeUrl = any.find((a) => a.field === 1)?.bytes;
        const value = any.find((a) => a.field === 2)?.bytes;
        if (typeUrl && value && utf8.decode(typeUrl) === RETRY_INFO_TYPE) status.retryAfterMs = retryDelayMs(value);
      }
    }
    return status;
  } catch {
    return undefined;
  }
}

export interface PartialSuccess {
  rejectedDataPoints: number;
  errorMessage: string;
}

/**
 * The partial_success of an ExportMetricsServiceResponse (field 1: rejected_data_points = 1,
 * error_message = 2); undefined when the bytes are not one. An answer without it (the usual empty
 * body) reads as nothing rejected.
 */
export function decodeExportResponse(bytes: Uint8Array): PartialSuccess | undefined {
  try {
    const partial: PartialSuccess = { rejectedDataPoints: 0, errorMessage: '' };
    for (const f of readFields(bytes)) {
      if (f.field !== 1 || !f.bytes) continue;
      for (const p of readFields(f.bytes)) {
        if (p.field === 1 && p.int !== undefined) partial.rejectedDataPoints = Number(BigInt.asIntN(64, p.int));
        else if (p.field === 2 && p.bytes) partial.errorMessage = utf8.decode(p.bytes);
      }
    }
    return partial;
  } catch {
    return undefined;
  }
}
