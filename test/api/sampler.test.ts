// The sampler parses only what a sample uses. /proc/meminfo up to SwapFree: on every captured kernel (2.6.32 without
// MemAvailable, an lxcfs container, 6.18) and on this one, a sample's memory and swap fields are
// the same as from the whole file. /proc/diskstats: the physical disks' lines only, the same
// devices and counters as parsing every line and keeping the disks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { diskLinesOf, meminfoHead, Sampler } from '../../internal/api/sampler';
import { KeptFilesHostFs } from '../../internal/procfs/kept-files';
import { systemClock } from '../../internal/procfs/host';
import { tempHostRoot } from '../support/host-root';
import { logCapture } from '../support/log-capture';
import { classifyBlockDevice, readWholeDisks } from '../../internal/procfs/block';
import { parseDiskstats } from '../../internal/procfs/diskstats';
import { HostFs } from '../../internal/procfs/host';
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

describe('the sampler\'s physical disk lines of /proc/diskstats', () => {
  it('are the devices, with their counters, that the whole parse classifies as disks', async () => {
    let hosts = 0;
    for (const root of [join(FIXTURES, 'procfs', 'lvm-md-server-5.15'), join(FIXTURES, 'procfs', 'vm-6.18-2cpu'), '/']) {
      const host = new HostFs(root);
      const wholeDisks = await readWholeDisks(host);
      if (wholeDisks === undefined) continue;
      hosts += 1;
      const text = host.readText('/proc/diskstats');
      const expected = parseDiskstats(text).filter((d) => classifyBlockDevice(d.name, wholeDisks) === 'disk');
      const lines = text.match(diskLinesOf([...wholeDisks].filter((name) => classifyBlockDevice(name, wholeDisks) === 'disk')));
      assert.deepEqual(lines === null ? [] : parseDiskstats(lines.join('\n')), expected, root);
      assert.ok(expected.length > 0 || root === '/', `${root}: a disk is expected`);
    }
    assert.ok(hosts >= 2);
  });

  it('match nothing when the host has no physical disk', () => {
    assert.equal('   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0\n'.match(diskLinesOf([])), null);
  });
});

describe('the sampler\'s disk rates', () => {
  // Ticks one second apart on a host root whose disk counters the test moves on by known amounts.
  const rates = async (host: ReturnType<typeof tempHostRoot>, grow: (sectors: number) => void): Promise<Array<number | null>> => {
    let ms = 0;
    const clock = { now: () => 1_796_293_600_000 + ms, monotonic: () => ms };
    const sampler = new Sampler(new KeptFilesHostFs(host.root), 'fixture-host', clock, logCapture().logger, () => {});
    try {
      await sampler.start(3_600_000);
      const out: Array<number | null> = [];
      for (const sectors of [8, 16]) {
        grow(sectors);
        ms += 1000;
        out.push(sampler.tick().disk_read_bps);
      }
      return out;
    } finally {
      sampler.stop();
    }
  };
  const bump = (text: string, name: string, sectors: number, column: number): string =>
    text.replace(new RegExp(`^(.*\\b${name}\\b.*)$`, 'm'), (line) => {
      const cols = line.trim().split(/\s+/);
      cols[column] = String(Number(cols[column]) + sectors);
      return cols.join(' ');
    });

  it('come from /sys/block/<disk>/stat when the kernel has it, and from /proc/diskstats when not', async () => {
    const withStat = tempHostRoot('procfs/block-stat-6.18');
    const withoutStat = tempHostRoot('procfs/block-stat-6.18');
    try {
      for (const name of readdirSync(join(withoutStat.root, 'sys', 'block'))) rmSync(join(withoutStat.root, 'sys', 'block', name, 'stat'));
      // vda is the one physical disk (loop and zram devices are not disks): 8 then 16 sectors a second.
      const viaSys = await rates(withStat, (sectors) => {
        const file = join(withStat.root, 'sys', 'block', 'vda', 'stat');
        withStat.write('/sys/block/vda/stat', bump(`vda ${readFileSync(file, 'utf8')}`, 'vda', sectors, 3).replace(/^vda /, ''));
        // /proc/diskstats is left behind: a sample that read it would see no reads at all.
      });
      const viaProc = await rates(withoutStat, (sectors) => {
        withoutStat.write('/proc/diskstats', bump(readFileSync(join(withoutStat.root, 'proc', 'diskstats'), 'utf8'), 'vda', sectors, 5));
      });
      assert.deepEqual(viaSys, [8 * 512, 16 * 512]);
      assert.deepEqual(viaProc, [8 * 512, 16 * 512]);
    } finally {
      withStat.remove();
      withoutStat.remove();
    }
  });
});

describe('a source the sampler cannot read', () => {
  it('is left out of the sample, the others are there, and the failure is logged once per streak', async () => {
    const host = tempHostRoot('procfs/vm-6.18-2cpu');
    rmSync(join(host.root, 'proc', 'net', 'dev'));
    const capture = logCapture();
    const files = new KeptFilesHostFs(host.root);
    const sampler = new Sampler(files, 'fixture-host', systemClock, capture.logger, () => {});
    try {
      await sampler.start(3_600_000);
      const sample = (await sampler.tick())!;
      assert.equal(sample.net_rx_bps, null);
      assert.equal(sample.net_tx_bps, null);
      assert.ok(sample.mem_total! > 0 && sample.load1 !== null && sample.root_fs_used_percent !== null && sample.disk_read_bps !== null, JSON.stringify(sample));
      const failing = capture.lines().filter((line) => line.event === 'api.sampler.failing');
      assert.equal(failing.length, 1);
      assert.match(String(failing[0]!.reason), /^\/proc\/net\/dev: .*ENOENT/);
    } finally {
      sampler.stop();
      host.remove();
    }
  });
});
