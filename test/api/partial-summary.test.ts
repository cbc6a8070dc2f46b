// Today's rows summarised at start into the day's `.partial` file, and again every hour and at a
// clean stop: after a restart, a range into today goes on from it (the rows summarised then are not
// read again) with the answers of all the rows; a partial summary of another file is not used; at
// midnight the day's summary goes on from it and is the summary of all the rows.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CSV_HEADER, dayFileName, formatRow, partialSummaryFileName, sampleOfRow, scanCsv, summaryFileName } from '../../internal/api/csv';
import { CsvHistory } from '../../internal/api/csv-history';
import { decodeSummary, encodeSummary, GrowingSummary } from '../../internal/api/csv-summary';
import { StepBuckets } from '../../internal/api/range';
import { logCapture } from '../support/log-capture';
import { REPO_ROOT } from '../support/paths';
import { sampleAt } from '../support/samples';
import { until } from '../support/wait';

const root = mkdtempSync(join(tmpdir(), 'tfo-api-partial-'));
after(() => rmSync(root, { recursive: true, force: true }));

const TODAY = Math.floor(Date.parse('2026-11-21T00:00:00Z') / 1000);
const NOON_MS = (TODAY + 43_200) * 1000;

/** Rows about every 5 s with decimals from `from` to `to` (unix seconds), the CPUs growing once. */
function rows(from: number, to: number, seed: number): string {
  let state = seed;
  const random = (): number => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  let text = '';
  for (let ts = from + random(); ts < to; ts += 2 + random() * 6) {
    const cores = Array.from({ length: ts > from + 20_000 ? 4 : 2 }, () => random() * 100);
    text += formatRow(sampleAt(Math.round(ts * 1000) / 1000, { cpu_total: random() * 100, cpu_per_core: cores, load1: random() * 3 }));
  }
  return text;
}

function historyDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, dayFileName((TODAY - 86_400) * 1000)), CSV_HEADER + '\r\n' + rows(TODAY - 86_400, TODAY, 1));
  writeFileSync(join(dir, dayFileName(TODAY * 1000)), CSV_HEADER + '\r\n' + rows(TODAY, TODAY + 30_000, 2));
  return dir;
}

const QUERIES = [
  { from: TODAY - 3_600.5, to: TODAY + 86_400, step: 60 },
  { from: TODAY + 1_000.25, to: TODAY + 40_000, step: 300 },
  { from: TODAY + 29_000, to: TODAY + 31_000 },
];

function answer(history: CsvHistory, query: { from: number; to: number; step?: number }): string {
  if (query.step === undefined) {
    const found: unknown[] = [];
    history.read(query.from, query.to, Infinity, (row) => found.push(sampleOfRow(row)));
    return JSON.stringify(found);
  }
  const buckets = new StepBuckets(query.step);
  history.readBuckets(query.from, query.to, Infinity, buckets);
  return JSON.stringify(buckets.finish());
}

/** The answers from the rows of the files as they are: every file scanned whole. */
function fromRows(dir: string): string[] {
  const files = [TODAY - 86_400, TODAY].map((day) => readFileSync(join(dir, dayFileName(day * 1000))));
  return QUERIES.map((query) => {
    const wanted = (ts: number): boolean => ts >= query.from && ts <= query.to;
    if (query.step === undefined) {
      const found: unknown[] = [];
      for (const bytes of files) scanCsv(bytes, (row) => wanted(row.values[0]!) && found.push(sampleOfRow(row)));
      return JSON.stringify(found);
    }
    const buckets = new StepBuckets(query.step);
    for (const bytes of files) {
      buckets.beginSource();
      scanCsv(bytes, (row) => wanted(row.values[0]!) && buckets.add(row));
    }
    return JSON.stringify(buckets.finish());
  });
}

async function started(dir: string, now = (): number => NOON_MS): Promise<CsvHistory> {
  const history = new CsvHistory(dir, 7, logCapture().logger, now);
  history.summarizePastDays();
  history.summarizeToday();
  await until('summaries written', () => (history.summarizing ? undefined : true));
  return history;
}

/** The day file's partial summary, and the summary of all the file's whole rows to compare it with. */
function partialAndRows(dir: string): { written: Buffer; rows: Buffer } {
  const name = dayFileName(TODAY * 1000);
  const partial = decodeSummary(readFileSync(join(dir, partialSummaryFileName(name))));
  const whole = new GrowingSummary();
  whole.extend(readFileSync(join(dir, name)));
  return { written: encodeSummary({ ...partial, tail: undefined }), rows: encodeSummary(whole.summary(partial.csvMtimeMs)) };
}

describe("today's partial summary", () => {
  it('a run of summaries ends with one full collection, after its last summary is written; none when every summary is usable', async () => {
    const dir = historyDir('collect');
    const summaries = [summaryFileName(dayFileName((TODAY - 86_400) * 1000)), partialSummaryFileName(dayFileName(TODAY * 1000))];
    const collections: boolean[][] = [];
    const collect = (): void => {
      collections.push(summaries.map((name) => existsSync(join(dir, name))));
    };
    const first = new CsvHistory(dir, 7, logCapture().logger, () => NOON_MS, collect);
    first.summarizePastDays();
    first.summarizeToday();
    assert.deepEqual(collections, [], 'not while summaries are queued');
    await until('summaries written', () => (first.summarizing ? undefined : true));
    assert.deepEqual(collections, [[true, true]]);
    // A restart finds yesterday's summary usable and today's partial one up to date: nothing is
    // added up, so nothing is let go.
    const second = new CsvHistory(dir, 7, logCapture().logger, () => NOON_MS, collect);
    second.summarizePastDays();
    await until('summaries checked', () => (second.summarizing ? undefined : true));
    assert.equal(collections.length, 1);
    first.close();
    second.close();
  });

  it("in a real V8 with --expose-gc, the buffers a run of summaries let go are freed once it ends", () => {
    const dir = historyDir('collect-v8');
    const module = (name: string): string => JSON.stringify(join(REPO_ROOT, 'dist', 'internal', ...name.split('/')) + '.js');
    const script = `
      const { CsvHistory } = require(${module('api/csv-history')});
      const { exposedGc } = require(${module('agent/heap-trim')});
      const { silentLogger } = require(${module('log/logger')});
      const logger = silentLogger();
      const history = new CsvHistory(${JSON.stringify(dir)}, 7, logger, () => ${NOON_MS}, exposedGc());
      history.summarizePastDays();
      history.summarizeToday();
      let peak = 0;
      const wait = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        if (history.summarizing) return;
        clearInterval(wait);
        console.log(JSON.stringify({ peak, after: process.memoryUsage().arrayBuffers }));
        history.close();
      }, 1);
    `;
    const run = spawnSync(process.execPath, ['--predictable', '--expose-gc', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const { peak, after } = JSON.parse(run.stdout) as { peak: number; after: number };
    assert.ok(peak > 256 * 1024, `the summaries used only ${peak} bytes of buffers`);
    assert.ok(after < 64 * 1024, `${after} bytes of buffers left after the summaries (${peak} at most during them)`);
  });

  it('is brought up to date in the background when a row starts a new hour', async () => {
    const dir = historyDir('hourly');
    const history = await started(dir);
    const atStart = readFileSync(join(dir, partialSummaryFileName(dayFileName(TODAY * 1000))));
    // 08:20 and 08:25 (the rows before start at most 08:20): the start pass's summary stands.
    history.append(sampleAt(TODAY + 30_000.5));
    history.append(sampleAt(TODAY + 30_300));
    assert.equal(history.summarizing, false, 'no summary within the hour');
    // 09:00: the new hour's first row queues it, written on later turns of the event loop.
    history.append(sampleAt(TODAY + 32_400, { cpu_per_core: [1, 2, 3, 4, 5] }));
    assert.equal(history.summarizing, true);
    assert.deepEqual(readFileSync(join(dir, partialSummaryFileName(dayFileName(TODAY * 1000)))), atStart, 'not written in the append');
    await until('summarised', () => (history.summarizing ? undefined : true));
    const { written, rows: all } = partialAndRows(dir);
    assert.deepEqual(written, all);
    history.close();
  });

  it('is brought up to date at a clean stop', async () => {
    const dir = historyDir('stop');
    const history = await started(dir);
    for (let ts = TODAY + 30_000.5; ts < TODAY + 30_100; ts += 1) history.append(sampleAt(ts, { cpu_total: ts % 100 }));
    assert.equal(history.summarizing, false);
    history.close();
    const { written, rows: all } = partialAndRows(dir);
    assert.deepEqual(written, all);
  });

  it('a stop that would read more than a couple of megabytes of rows leaves the partial summary to the next start', async () => {
    const dir = historyDir('stop-long');
    const partialPath = join(dir, partialSummaryFileName(dayFileName(TODAY * 1000)));
    const history = await started(dir);
    const atStart = readFileSync(partialPath);
    // Rows the partial summary does not have yet (the agent wrote them while the start pass read).
    appendFileSync(join(dir, dayFileName(TODAY * 1000)), rows(TODAY + 30_000, TODAY + 86_000, 6));
    assert.ok(decodeSummary(atStart).csvBytes + (2 << 20) < readFileSync(join(dir, dayFileName(TODAY * 1000))).length, 'more than 2 MB of rows since the partial summary');
    history.append(sampleAt(TODAY + 86_000.5));
    history.close();
    assert.deepEqual(readFileSync(partialPath), atStart);
  });

  it('after a restart, a range into today reads only the rows written since, with the answers of all the rows', async () => {
    const dir = historyDir('restart');
    const today = join(dir, dayFileName(TODAY * 1000));
    (await started(dir)).close();
    const partial = decodeSummary(readFileSync(join(dir, partialSummaryFileName(dayFileName(TODAY * 1000)))));
    assert.equal(partial.csvBytes, readFileSync(today).length);
    // The agent goes on writing, four CPUs now; then restarts.
    appendFileSync(today, rows(TODAY + 30_000, TODAY + 43_000, 3));
    const expected = fromRows(dir);
    // A value in the rows summarised at start, changed in place: a history that read them again
    // would answer with it.
    const bytes = readFileSync(today);
    let at = bytes.indexOf('\n', 2000) + 1;
    for (let comma = 0; comma < 3; comma += 1) at = bytes.indexOf(',', at) + 1; // cpu_total's first digit
    bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
    writeFileSync(today, bytes);
    assert.notDeepEqual(fromRows(dir), expected, 'the change shows in an answer from the rows');
    const history = new CsvHistory(dir, 7, logCapture().logger, () => NOON_MS);
    assert.deepEqual(QUERIES.slice(0, 2).map((query) => answer(history, query)), expected.slice(0, 2));
    assert.equal(answer(history, QUERIES[2]!), expected[2], 'rows after the partial summary, across its end');
    history.close();
  });

  it('a partial summary of another file (today started again) is not used', async () => {
    const dir = historyDir('replaced');
    const today = join(dir, dayFileName(TODAY * 1000));
    (await started(dir)).close();
    // Deleted and written again, longer than before: the partial summary's bytes end elsewhere.
    writeFileSync(today, CSV_HEADER + '\r\n' + rows(TODAY, TODAY + 36_000, 4));
    const history = new CsvHistory(dir, 7, logCapture().logger, () => NOON_MS);
    assert.deepEqual(QUERIES.map((query) => answer(history, query)), fromRows(dir));
    history.close();
  });

  it("at midnight the day's summary goes on from the partial one and is the summary of all its rows", async () => {
    const dir = historyDir('midnight');
    const name = dayFileName(TODAY * 1000);
    const today = join(dir, name);
    let now = NOON_MS;
    const history = await started(dir, () => now);
    assert.ok(existsSync(join(dir, partialSummaryFileName(name))));
    appendFileSync(today, rows(TODAY + 30_000, TODAY + 86_399, 5));
    history.append(sampleAt(TODAY + 86_399.5));
    now = (TODAY + 86_400) * 1000;
    history.append(sampleAt(TODAY + 86_400));
    await until('summarised', () => (history.summarizing ? undefined : true));
    const bytes = readFileSync(today);
    const whole = new GrowingSummary();
    whole.extend(bytes);
    const written = decodeSummary(readFileSync(join(dir, summaryFileName(name))));
    assert.deepEqual(encodeSummary(written), encodeSummary({ ...whole.summary(written.csvMtimeMs), csvBytes: bytes.length }));
    assert.equal(existsSync(join(dir, partialSummaryFileName(name))), false, 'the partial summary is let go');
    history.close();
  });
});
