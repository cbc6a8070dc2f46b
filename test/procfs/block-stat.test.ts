// /sys/block/<disk>/stat is the disk's /proc/diskstats line without major, minor and name: on a
// capture of both files at the same moment (this kind of guest, Linux 6.18, 17 counters) and on
// every captured /proc/diskstats line written as the kernel writes the stat file (%8 columns;
// 11 counters before 4.18, 15 before 5.5), the parse gives the same counters.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseBlockDev, parseBlockStat } from '../../internal/procfs/block-stat';
import { parseDiskstats } from '../../internal/procfs/diskstats';
import { ParseError } from '../../internal/procfs/errors';
import { FIXTURES } from '../support/paths';

const CAPTURED = join(FIXTURES, 'procfs', 'block-stat-6.18');

describe('parseBlockStat', () => {
  it('gives the counters of the /proc/diskstats line captured at the same moment', () => {
    const lines = parseDiskstats(readFileSync(join(CAPTURED, 'proc', 'diskstats'), 'utf8'));
    const names = readdirSync(join(CAPTURED, 'sys', 'block'));
    assert.ok(names.includes('vda') && names.length === lines.length, names.join(' '));
    for (const name of names) {
      const device = parseBlockDev(name, readFileSync(join(CAPTURED, 'sys', 'block', name, 'dev'), 'utf8'))!;
      const stat = parseBlockStat(device, readFileSync(join(CAPTURED, 'sys', 'block', name, 'stat'), 'utf8'));
      assert.deepEqual(stat, lines.find((line) => line.name === name), name);
    }
    assert.ok(lines.find((line) => line.name === 'vda')!.sectorsRead > 0);
  });

  it('reads every captured kernel\'s counters, 11 to 17 of them', () => {
    const widths = new Set<number>();
    for (const machine of readdirSync(join(FIXTURES, 'procfs'))) {
      let text: string;
      try {
        text = readFileSync(join(FIXTURES, 'procfs', machine, 'proc', 'diskstats'), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
        const [major, minor, name, ...counters] = line.trim().split(/\s+/);
        widths.add(counters.length);
        const statFile = counters.map((value) => value.padStart(8)).join(' ') + '\n';
        assert.deepEqual(parseBlockStat({ name: name!, major: Number(major), minor: Number(minor) }, statFile), parseDiskstats(line)[0], `${machine} ${name}`);
      }
    }
    // And the oldest layout, as 2.6.25–4.17 kernels write it.
    const old = parseBlockStat({ name: 'sda', major: 8, minor: 0 }, '     100        2      800       50      200        3     1600       70        0       90      120\n');
    assert.equal(old.sectorsWritten, 1600);
    assert.equal(old.discardsCompleted, undefined);
    assert.ok(widths.size >= 1);
  });

  it('names the stat file when its text is not the counters', () => {
    assert.throws(() => parseBlockStat({ name: 'vda', major: 254, minor: 0 }, '1 2 3\n'), (err: unknown) => err instanceof ParseError && err.source === '/sys/block/vda/stat' && /expected at least 14 columns/.test(err.message) && !err.message.includes('/proc/diskstats'));
    assert.throws(() => parseBlockStat({ name: 'vda', major: 254, minor: 0 }, '1 2 3 4 5 6 7 8 9 10 x\n'), /\/sys\/block\/vda\/stat: .*not a counter/);
  });
});

describe('parseBlockDev', () => {
  it('reads major:minor and refuses anything else', () => {
    assert.deepEqual(parseBlockDev('vda', '254:0\n'), { name: 'vda', major: 254, minor: 0 });
    assert.equal(parseBlockDev('vda', ''), undefined);
    assert.equal(parseBlockDev('vda', '254\n'), undefined);
  });
});
