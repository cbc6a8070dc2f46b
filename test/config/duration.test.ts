import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DurationError, formatDuration, parseDuration, tryParseDuration } from '../../internal/config/duration';

describe('parseDuration', () => {
  it('reads Go-style durations into milliseconds', () => {
    const cases: [string, number][] = [
      ['500ms', 500], ['15s', 15_000], ['1m30s', 90_000], ['24h', 86_400_000], ['1h2m3.5s', 3_723_500],
      ['1.5s', 1500], ['.5s', 500], ['1.001s', 1001], ['0', 0], ['250us', 0.25], ['250µs', 0.25],
      ['1500000ns', 1.5], ['-2s', -2000],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  });

  it('rejects numbers without units, unknown units and garbage', () => {
    for (const text of ['5', '', ' ', 's', '1d', '1.5', '3s5', '1 s', 'fifteen seconds', '--1s', '1m-30s']) {
      assert.equal(tryParseDuration(text), undefined, text);
      assert.throws(() => parseDuration(text), (error: unknown) => error instanceof DurationError && error.message === `${JSON.stringify(text)} is not a duration, e.g. "15s"`);
    }
  });
});

describe('formatDuration', () => {
  it('writes the shortest Go-style string', () => {
    const cases: [number, string][] = [
      [0, '0s'], [500, '500ms'], [1500, '1.5s'], [15_000, '15s'], [60_000, '1m'], [90_000, '1m30s'],
      [3_600_000, '1h'], [86_400_000, '24h'], [3_601_000, '1h1s'], [0.25, '250us'], [-2000, '-2s'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1000, 1001, 59_999, 61_500, 3_599_999, 90_061_001, 0.001, 0.000001, 12.5]) {
      assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
    }
  });
});
