// The CSV files on a real disk: continued across restarts, a torn last row closed, a full disk
// counted and logged once per streak.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CSV_HEADER, dayFileName, formatRow, sampleOfRow } from '../../internal/api/csv';
import { CsvHistory } from '../../internal/api/csv-history';
import type { Sample } from '../../internal/api/sample';
import { logCapture } from '../support/log-capture';
import { sampleAt } from '../support/samples';

const root = mkdtempSync(join(tmpdir(), 'tfo-api-history-'));
after(() => rmSync(root, { recursive: true, force: true }));


function readAll(history: CsvHistory): Sample[] {
  const samples: Sample[] = [];
  history.read(T0 - 86_400, T0 + 86_400, Infinity, (row) => samples.push(sampleOfRow(row)));
  return samples;
}

const T0 = Math.floor(Date.now() / 1000) - 100;

describe('CSV history on disk', () => {
  it('appends across restarts under one header; a torn last row is closed, no row after it is lost', () => {
    const dir = join(root, 'restarts');
    const first = new CsvHistory(dir, 7, logCapture().logger);
    first.append(sampleAt(T0));
    first.append(sampleAt(T0 + 1));
    first.close();
    const file = join(dir, dayFileName(T0 * 1000));
    // A crash in the middle of the third row.
    writeFileSync(file, readFileSync(file, 'utf8') + formatRow(sampleAt(T0 + 2)).slice(0, 40), { flag: 'w' });
    const second = new CsvHistory(dir, 7, logCapture().logger);
    second.append(sampleAt(T0 + 3));
    second.append(sampleAt(T0 + 4));
    second.close();
    const text = readFileSync(file, 'utf8');
    assert.equal(text.split(CSV_HEADER).length - 1, 1, 'one header');
    assert.deepEqual(readAll(second).map((s) => s.ts_unix), [T0, T0 + 1, T0 + 3, T0 + 4]);
    assert.ok(text.endsWith('\r\n'));
  });

  it("continues a file begun under another version's header with this version's header", () => {
    const dir = join(root, 'foreign');
    const file = join(dir, dayFileName(T0 * 1000));
    const history = new CsvHistory(dir, 7, logCapture().logger);
    history.append(sampleAt(T0)); // creates the directory and file
    history.close();
    writeFileSync(file, 'ts_unix,host,cpu_total\r\n' + `${T0 - 1},old,5\r\n`);
    const again = new CsvHistory(dir, 7, logCapture().logger);
    again.append(sampleAt(T0 + 1));
    again.close();
    assert.deepEqual(readAll(again).map((s) => [s.ts_unix, s.host, s.mem_total]), [[T0 - 1, 'old', null], [T0 + 1, 'web-1', 8_000_000_000]]);
  });

  it('a full disk: every failed row counted, one log line for the streak, one for its end', () => {
    const dir = join(root, 'full');
    const logs = logCapture();
    const history = new CsvHistory(dir, 7, logs.logger);
    history.append(sampleAt(T0));
    history.close();
    const file = join(dir, dayFileName(T0 * 1000));
    unlinkSync(file);
    symlinkSync('/dev/full', file); // writes fail with ENOSPC, as on a full file system
    for (let n = 1; n <= 5; n += 1) history.append(sampleAt(T0 + n));
    assert.equal(history.writeFailures, 5);
    assert.deepEqual(logs.events().filter((e) => e.startsWith('api.csv')), ['api.csv.failing']);
    unlinkSync(file);
    history.append(sampleAt(T0 + 6));
    assert.equal(history.writeFailures, 5);
    assert.deepEqual(logs.events().filter((e) => e.startsWith('api.csv')), ['api.csv.failing', 'api.csv.recovered']);
    assert.ok(existsSync(file));
    assert.deepEqual(readAll(history).map((s) => s.ts_unix), [T0 + 6]);
    history.close();
  });
});
