// Go-style durations ("500ms", "15s", "1m30s", "24h"), the notation of TelemetryFlow config files.
// The agent keeps durations as milliseconds; sub-millisecond units become fractions of one.

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Rounds to whole nanoseconds so that decimal fractions do not drift ("1.001s" is 1001 ms). */
function toNanosecondPrecision(ms: number): number {
  return Math.round(ms * 1e6) / 1e6;
}

/**
 * Milliseconds in a Go duration string, or undefined when the text is not one. As in Go, a bare
 * "0" is zero and a leading sign is allowed; every other term needs a unit.
 */
export function tryParseDuration(text: string): number | undefined {
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest.length === 0) return undefined;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < rest.length) {
    const match = TERM.exec(rest);
    if (match === null) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return sign * toNanosecondPrecision(total);
}

export class DurationError extends Error {
  constructor(readonly text: string) {
    super(`${JSON.stringify(text)} is not a duration, e.g. "15s"`);
    this.name = 'DurationError';
  }
}

/** Milliseconds in a Go duration string; throws DurationError when the text is not one. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new DurationError(text);
  return ms;
}

/** Drops the trailing zeros of a decimal without exponent notation ("1.500" -> "1.5"). */
function decimal(value: number): string {
  return String(toNanosecondPrecision(value));
}

/**
 * The shortest Go-style string for a number of milliseconds: "500ms", "1.5s", "1m30s", "24h".
 * parseDuration(formatDuration(ms)) === ms for any whole number of nanoseconds.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return '-' + formatDuration(-ms);
  if (ms < 1e-3) return `${Math.round(ms * 1e6)}ns`;
  if (ms < 1) return `${decimal(ms * 1e3)}us`;
  if (ms < 1000) return `${decimal(ms)}ms`;
  const hours = Math.floor(ms / UNIT_MS.h);
  const minutes = Math.floor((ms - hours * UNIT_MS.h) / UNIT_MS.m);
  const seconds = toNanosecondPrecision((ms - hours * UNIT_MS.h - minutes * UNIT_MS.m) / 1000);
  return (hours > 0 ? `${hours}h` : '') + (minutes > 0 ? `${minutes}m` : '') + (seconds > 0 ? `${decimal(seconds)}s` : '');
}
