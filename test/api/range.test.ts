import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRangeQuery, StepBuckets } from '../../internal/api/range';
import { sampleAt } from '../support/samples';

const NOW = 1_796_300_000;
const WEEK = 7 * 86_400;
const parse = (query: string) => parseRangeQuery(new URLSearchParams(query), NOW, WEEK);

describe('range parameters', () => {
  it('seconds: default 10, a positive whole number up to the retention period', () => {
    assert.deepEqual(parse(''), { from: NOW - 10, to: NOW });
    assert.deepEqual(parse('seconds=3600'), { from: NOW - 3600, to: NOW });
    assert.deepEqual(parse(`seconds=${WEEK}`), { from: NOW - WEEK, to: NOW });
    for (const [query, message] of [
      ['seconds=0', /greater than 0/],
      ['seconds=-5', /greater than 0/],
      ['seconds=1.5', /whole number/],
      ['seconds=abc', /whole number/],
      ['seconds=', /whole number/],
      [`seconds=${WEEK + 1}`, /at most 604800 .*retention/],
    ] as const) {
      const error = parse(query);
      assert.ok('parameter' in error, query);
      assert.equal(error.parameter, 'seconds', query);
      assert.match(error.message, message, query);
    }
  });

  it('from/to: unix seconds or ISO 8601; to defaults to now', () => {
    assert.deepEqual(parse(`from=${NOW - 60}&to=${NOW - 30}`), { from: NOW - 60, to: NOW - 30 });
    assert.deepEqual(parse('from=2026-12-03T10:00:00Z&to=2026-12-03T11:00:00.500Z'), { from: Date.parse('2026-12-03T10:00:00Z') / 1000, to: Date.parse('2026-12-03T11:00:00.500Z') / 1000 });
    assert.deepEqual(parse(`from=${NOW - 60}.5`), { from: NOW - 59.5, to: NOW });
    const cases: Array<[string, string, RegExp]> = [
      ['from=yesterday', 'from', /not unix seconds or ISO 8601/],
      [`from=${NOW}&to=soon`, 'to', /not unix seconds or ISO 8601/],
      [`to=${NOW}`, 'from', /required/],
      [`from=${NOW - 10}&to=${NOW - 20}`, 'from', /after to/],
      [`from=${NOW - WEEK - 1}`, 'from', /retention/],
      [`from=${NOW - 10}&seconds=5`, 'seconds', /either/],
    ];
    for (const [query, parameter, message] of cases) {
      const error = parse(query);
      assert.ok('parameter' in error, query);
      assert.equal(error.parameter, parameter, query);
      assert.match(error.message, message, query);
    }
  });

  it('step: N or Ns, a positive whole number', () => {
    assert.deepEqual(parse('seconds=600&step=300s'), { from: NOW - 600, to: NOW, step: 300 });
    assert.deepEqual(parse('seconds=600&step=60'), { from: NOW - 600, to: NOW, step: 60 });
    for (const step of ['0s', '5m', '-1', '1.5s', 'x']) {
      const error = parse(`seconds=600&step=${step}`);
      assert.ok('parameter' in error && error.parameter === 'step', step);
    }
  });
});

describe('step buckets', () => {
  it('means of each field, the busiest cpu_total, the count; aligned on multiples of the step', () => {
    const buckets = new StepBuckets(60);
    buckets.addSample(sampleAt(1_796_299_980, { cpu_total: 10, cpu_per_core: [5, 15], load1: 1 }));
    buckets.addSample(sampleAt(1_796_299_981, { cpu_total: 30, cpu_per_core: [25, 35], load1: null }));
    buckets.addSample(sampleAt(1_796_300_039.9, { cpu_total: 20, cpu_per_core: [15, 25], load1: 3 }));
    buckets.addSample(sampleAt(1_796_300_040, { cpu_total: 50, cpu_per_core: [50, 50], load1: null, host: 'renamed' }));
    const [first, second] = buckets.finish();
    assert.equal(first!.ts_unix, 1_796_299_980);
    assert.equal(first!.ts_iso, new Date(1_796_299_980_000).toISOString());
    assert.deepEqual([first!.cpu_total, first!.cpu_total_max, first!.samples, first!.load1], [20, 30, 3, 2]);
    assert.deepEqual(first!.cpu_per_core, [15, 25]);
    assert.equal(first!.mem_total, 8_000_000_000);
    assert.deepEqual([second!.ts_unix, second!.cpu_total, second!.cpu_total_max, second!.samples, second!.load1, second!.host], [1_796_300_040, 50, 50, 1, null, 'renamed']);
  });
});
