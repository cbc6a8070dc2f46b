// The sampler reads /proc/meminfo only up to SwapFree: on every captured kernel (2.6.32 without
// MemAvailable, an lxcfs container, 6.18) and on this one, a sample's memory and swap fields are
// the same as from the whole file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { meminfoHead } from '../../internal/api/sampler';
import { memoryFields } from '../../internal/heartbeat/fields';
import { parseMeminfo } from '../../internal/procfs/meminfo';
import { FIXTURES } from '../support/paths';

const captured = readdirSync(join(FIXTURES, 'procfs')).map((dir) => join(FIXTURES, 'procfs', dir, 'proc', 'meminfo'));

describe('the sampler\'s head of /proc/meminfo', () => {
  it('gives the memory and swap fields of the whole file, in fewer lines', () => {
    let files = 0;
    for (const file of [...captured, '/proc/meminfo']) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      files += 1;
      const head = meminfoHead(text);
      assert.ok(head.length < text.length && head.endsWith('\n') && /\nSwapFree: .*\n$/.test(head), file);
      const whole = memoryFields(parseMeminfo(text), undefined, 0);
      const part = memoryFields(parseMeminfo(head), undefined, 0);
      for (const field of ['memoryTotal', 'memoryUsed', 'memoryUsage', 'swapTotal', 'swapUsed', 'swapUsage'] as const) {
        assert.equal(part[field], whole[field], `${file}: ${field}`);
      }
    }
    assert.ok(files >= 4, `${files} meminfo files`);
  });

  it('is the whole text when there is no SwapFree line', () => {
    assert.equal(meminfoHead('MemTotal: 100 kB\nMemFree: 50 kB\n'), 'MemTotal: 100 kB\nMemFree: 50 kB\n');
  });
});
