import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LONG_RUN_V8_FLAGS, longRunFlagsFor } from '../../internal/agent/v8-tuning';

test('the long-run V8 flags are all set when the node command line gives none of them', () => {
  assert.deepEqual(longRunFlagsFor([]), LONG_RUN_V8_FLAGS);
  assert.deepEqual(longRunFlagsFor(['--max-semi-space-size=1', '--v8-pool-size=1', '--title=x']), LONG_RUN_V8_FLAGS);
});

test('a V8 flag given on the node command line wins over the agent\'s own, in either spelling or negated', () => {
  assert.deepEqual(longRunFlagsFor(['--max-opt=4']), ['--optimize-for-size']);
  assert.deepEqual(longRunFlagsFor(['--max_opt=4']), ['--optimize-for-size']);
  assert.deepEqual(longRunFlagsFor(['--no-optimize-for-size']), ['--max-opt=0']);
  assert.deepEqual(longRunFlagsFor(['--no_optimize_for_size', '--max-opt=3']), []);
});
