// collectd's binary network protocol (collectd 5.x): part codes, value kinds and the exact
// conversion of its 2^-30 s time unit. Shared by the decoder and the encoder.
import type { HrTime } from '@opentelemetry/api';

export const DEFAULT_PORT = 25826;
export const DEFAULT_MAX_PACKET_SIZE = 1452;
/** What a sender keeps free for a signature or encryption part, as collectd does. */
export const SECURITY_RESERVE = 106;

export const Part = {
  HOST: 0x0000,
  TIME: 0x0001,
  PLUGIN: 0x0002,
  PLUGIN_INSTANCE: 0x0003,
  TYPE: 0x0004,
  TYPE_INSTANCE: 0x0005,
  VALUES: 0x0006,
  INTERVAL: 0x0007,
  TIME_HR: 0x0008,
  INTERVAL_HR: 0x0009,
  MESSAGE: 0x0100,
  SEVERITY: 0x0101,
  SIGNATURE: 0x0200,
  ENCRYPTION: 0x0210,
} as const;

export type ValueKind = 'counter' | 'gauge' | 'derive' | 'absolute';
/** The one-byte codes of a values part, by kind, and back. */
export const KIND_CODES: readonly ValueKind[] = ['counter', 'gauge', 'derive', 'absolute'];

export type SecurityLevel = 'none' | 'sign' | 'encrypt';
export const SECURITY_LEVELS: readonly SecurityLevel[] = ['none', 'sign', 'encrypt'];

/** collectd's char[128] name fields: at most 127 bytes and the NUL. */
export const MAX_NAME_BYTES = 127;
/** collectd's NOTIF_MAX_MSG_LEN (256) with the NUL. */
export const MAX_MESSAGE_BYTES = 255;

export type Severity = 'failure' | 'warning' | 'okay';
export const SEVERITY_CODES: Readonly<Record<number, Severity>> = { 1: 'failure', 2: 'warning', 4: 'okay' };
export const SEVERITY_VALUES: Readonly<Record<Severity, number>> = { failure: 1, warning: 2, okay: 4 };

const UNITS_PER_SECOND = 1n << 30n;
const HALF_UNIT = 1n << 29n;

/**
 * A 2^-30 s count as seconds and nanoseconds, rounded to the nearest nanosecond as collectd's
 * CDTIME_T_TO_NS does. The fraction times 1e9 passes 2^53, hence BigInt.
 */
export function cdtimeToHrTime(units: bigint): HrTime {
  const seconds = units >> 30n;
  const fraction = units & (UNITS_PER_SECOND - 1n);
  const nanos = Number((fraction * 1_000_000_000n + HALF_UNIT) >> 30n);
  // A fraction within half a nanosecond of the next second rounds up to it.
  return nanos === 1_000_000_000 ? [Number(seconds) + 1, 0] : [Number(seconds), nanos];
}

/** Epoch milliseconds as 2^-30 s, as collectd's MS_TO_CDTIME_T does. */
export function millisToCdtime(ms: number): bigint {
  const whole = BigInt(Math.floor(ms));
  return (whole / 1000n << 30n) + ((whole % 1000n) << 30n) / 1000n;
}

export function hrTimeToMillis([seconds, nanos]: HrTime): number {
  return seconds * 1000 + nanos / 1e6;
}
