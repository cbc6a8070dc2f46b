import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AuthFile, parseAuthFile } from '../../internal/receiver/collectd/receiver';

describe('collectd auth_file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-collectd-auth-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses `user: password` lines, skipping comments and blank lines', () => {
    assert.deepEqual([...parseAuthFile('# users\nalice: s3cret\n\n bob :  pass word \n')], [['alice', 's3cret'], ['bob', 'pass word']]);
  });

  it('is re-read when it changes (checked at most once a second), and kept when it disappears', () => {
    const path = join(dir, 'auth');
    writeFileSync(path, 'alice: one\n');
    let now = 0;
    const auth = new AuthFile(path, undefined, () => now);
    assert.equal(auth.password('alice'), 'one');
    writeFileSync(path, 'alice: two\nbob: three\n');
    utimesSync(path, new Date(), new Date(Date.now() + 5_000));
    now = 500;
    assert.equal(auth.password('alice'), 'one', 'not re-checked within a second');
    now = 1_000;
    assert.equal(auth.password('alice'), 'two');
    assert.equal(auth.password('bob'), 'three');
    rmSync(path);
    now = 2_000;
    assert.equal(auth.password('bob'), 'three', 'a missing file keeps the users last read');
  });

  it('a missing file at start is an error naming the path', () => {
    assert.throws(() => new AuthFile(join(dir, 'absent')), (err: Error) => err.message.includes(join(dir, 'absent')));
  });
});
