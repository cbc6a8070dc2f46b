// The sampler's reader: kernel files opened once and read again at offset 0. Against the real
// kernel (a seq_file is generated anew by each read at 0) and against files a test rewrites.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isHostWideKernelFile, KeptFilesHostFs } from '../../internal/procfs/kept-files';
import { parseStat } from '../../internal/procfs/stat';

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('KeptFilesHostFs', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfo-kept-files-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reads the kernel files anew at every read, as a fresh read does, with one descriptor each', () => {
    const host = new KeptFilesHostFs('/');
    const before = openFds();
    try {
      const first = parseStat(host.readText('/proc/stat'));
      for (const path of ['/proc/meminfo', '/proc/loadavg', '/proc/diskstats', '/proc/net/dev']) {
        const kept = host.readText(path);
        assert.equal(kept.split('\n').length, readFileSync(path, 'utf8').split('\n').length, `${path}: same lines as a fresh read`);
        assert.equal(host.readText(path).split('\n')[0]!.split(/\s+/)[0], kept.split('\n')[0]!.split(/\s+/)[0], `${path}: read again from its start`);
      }
      assert.equal(openFds() - before, 5, 'one descriptor per file, kept between reads');
      // A process started in between: the kernel's count of them has moved on.
      spawnSync(process.execPath, ['-e', '']);
      const again = parseStat(host.readText('/proc/stat'));
      assert.ok(again.processesCreated > first.processesCreated, `processes ${again.processesCreated} after ${first.processesCreated}`);
      assert.equal(openFds() - before, 5, 'no descriptor added by reading again');
    } finally {
      host.close();
    }
    assert.equal(openFds(), before, 'close() releases every descriptor');
  });

  it('reads a file larger than its buffer whole, and a file rewritten in place as it is now', () => {
    mkdirSync(join(root, 'proc'), { recursive: true });
    const file = join(root, 'proc', 'big');
    const big = 'x'.repeat(70_000) + '\nend\n';
    writeFileSync(file, big);
    const host = new KeptFilesHostFs(root);
    try {
      assert.equal(host.readText('/proc/big'), big);
      writeFileSync(file, 'short\n');
      assert.equal(host.readText('/proc/big'), 'short\n');
    } finally {
      host.close();
    }
  });

  it('throws for a missing file like a fresh read, and opens it once it exists', () => {
    const host = new KeptFilesHostFs(root);
    try {
      assert.throws(() => host.readText('/proc/later'), { code: 'ENOENT' });
      assert.equal(host.readOptional('/proc/later'), undefined);
      writeFileSync(join(root, 'proc', 'later'), 'now\n');
      assert.equal(host.readText('/proc/later'), 'now\n');
    } finally {
      host.close();
    }
  });

  it('keeps only what its policy names, up to its limit, and reads the rest afresh (a file replaced by rename is seen anew)', () => {
    mkdirSync(join(root, 'proc', '4242'), { recursive: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    for (const name of ['a', 'b', 'c']) writeFileSync(join(root, 'proc', name), `${name}\n`);
    writeFileSync(join(root, 'proc', '4242', 'stat'), '4242 (sleep) S\n');
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0\n');
    const host = new KeptFilesHostFs(root, { keep: isHostWideKernelFile, maxKept: 2 });
    try {
      assert.equal(host.readText('/etc/passwd'), 'root:x:0:0\n');
      assert.equal(host.readText('/proc/4242/stat'), '4242 (sleep) S\n');
      assert.equal(host.keptFiles, 0, 'neither /etc nor a process directory is kept');
      for (const name of ['a', 'b', 'c']) assert.equal(host.readText(`/proc/${name}`), `${name}\n`);
      assert.equal(host.keptFiles, 2, 'no more than the limit');
      for (const path of ['/etc/passwd', '/proc/c']) {
        writeFileSync(join(root, `${path}.new`), 'replaced\n');
        renameSync(join(root, `${path}.new`), join(root, path));
        assert.equal(host.readText(path), 'replaced\n', `${path} read afresh after a rename`);
      }
    } finally {
      host.close();
    }
  });

  it('names the host-wide kernel files', () => {
    for (const path of ['/proc/stat', '/proc/net/dev', '/proc/self/mountinfo', '/proc/1/mountinfo', '/proc/pressure/io', '/sys/block/sda/stat']) assert.equal(isHostWideKernelFile(path), true, path);
    for (const path of ['/proc/4242/stat', '/proc/17/io', '/etc/passwd', '/etc/os-release', '/run/.containerenv']) assert.equal(isHostWideKernelFile(path), false, path);
  });
});
