import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExposition, select } from '../support/prometheus-text';

// The exposition parser the node_exporter agreement test relies on: if it misreads a label or a
// value, every comparison built on it is meaningless.

test('parses HELP/TYPE, labelled and bare samples, exponents and timestamps', () => {
  const text = [
    '# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.',
    '# TYPE node_cpu_seconds_total counter',
    'node_cpu_seconds_total{cpu="0",mode="idle"} 12345.67',
    'node_cpu_seconds_total{cpu="0",mode="user"} 1.5e+03 1700000000000',
    '# TYPE node_load1 gauge',
    'node_load1 0.25',
    'node_memory_MemTotal_bytes 8.253128704e+09',
  ].join('\n');
  const exposition = parseExposition(text);
  assert.equal(exposition.malformed, 0);
  assert.equal(exposition.types.get('node_cpu_seconds_total'), 'counter');
  assert.equal(exposition.types.get('node_load1'), 'gauge');
  assert.deepEqual(select(exposition, 'node_cpu_seconds_total', { mode: 'user' }), [
    { name: 'node_cpu_seconds_total', labels: { cpu: '0', mode: 'user' }, value: 1500 },
  ]);
  assert.equal(select(exposition, 'node_load1')[0].value, 0.25);
  assert.equal(select(exposition, 'node_memory_MemTotal_bytes')[0].value, 8253128704);
});

test('unescapes label values and keeps commas and braces inside quotes', () => {
  const exposition = parseExposition('m{path="/a,b}c",q="say \\"hi\\"",nl="x\\ny",bs="a\\\\b",} 1\n');
  assert.equal(exposition.malformed, 0);
  assert.deepEqual(exposition.samples[0].labels, { path: '/a,b}c', q: 'say "hi"', nl: 'x\ny', bs: 'a\\b' });
});

test('special values parse; malformed lines are counted and skipped, never thrown', () => {
  const exposition = parseExposition(
    ['a +Inf', 'b -Inf', 'c NaN', 'd{x="unterminated} 1', 'e notanumber', '9bad 1', 'f{=} 2', 'g', 'ok 3'].join('\n'),
  );
  assert.equal(select(exposition, 'a')[0].value, Number.POSITIVE_INFINITY);
  assert.equal(select(exposition, 'b')[0].value, Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(select(exposition, 'c')[0].value));
  assert.equal(select(exposition, 'ok')[0].value, 3);
  assert.equal(exposition.malformed, 5);
  assert.deepEqual(parseExposition(''), { samples: [], types: new Map(), malformed: 0 });
});
