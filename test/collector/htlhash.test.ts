// process.executable.build_id.htlhash as the profiling specification defines it, checked against
// sha256sum(1) over the input the specification spells out.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExecutableHashes } from '../../internal/collector/process/htlhash';

/** First 16 bytes of sha256sum over Concat(File[:4096], File[-4096:], BigEndianUInt64(Len(File))), in hex. */
function bySha256sum(dir: string, file: Buffer): string {
  const length = Buffer.alloc(8);
  length.writeUInt32BE(Math.floor(file.length / 2 ** 32), 0);
  length.writeUInt32BE(file.length % 2 ** 32, 4);
  const input = join(dir, 'input');
  writeFileSync(input, Buffer.concat([file.subarray(0, 4096), file.subarray(Math.max(0, file.length - 4096)), length]));
  return execFileSync('sha256sum', [input], { encoding: 'utf8' }).slice(0, 32);
}

describe('process.executable.build_id.htlhash', () => {
  it('hashes head, tail (overlapping in small files) and length, as sha256sum of that input says', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tfo-htlhash-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const hashes = new ExecutableHashes();
    for (const size of [0, 1, 4095, 4096, 4097, 8192, 8193, 100_000]) {
      const file = Buffer.alloc(size);
      for (let i = 0; i < size; i++) file[i] = (i * 7919 + size) % 251;
      const path = join(dir, `exe-${size}`);
      writeFileSync(path, file);
      assert.equal(hashes.of(path), bySha256sum(dir, file), `${size} bytes`);
    }
  });

  it('reads a file again once it changed, and gives nothing for what cannot be opened', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tfo-htlhash-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const hashes = new ExecutableHashes();
    const path = join(dir, 'app');
    writeFileSync(path, 'version 1');
    const first = hashes.of(path);
    writeFileSync(path, 'version 2, longer');
    assert.notEqual(hashes.of(path), first);
    assert.equal(hashes.of(path), bySha256sum(dir, Buffer.from('version 2, longer')));
    assert.equal(hashes.of(join(dir, 'missing')), undefined);
  });
});
