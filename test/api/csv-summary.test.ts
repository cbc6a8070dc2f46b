// Daily summaries on a real disk: a range answered from them is the range answered from the rows,
// byte for byte; a missing, truncated, corrupt or stale summary is logged once, never a wrong
// answer, and written again; midnight writes the day's.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CSV_HEADER, dayFileName, formatRow, sampleOfRow, scanCsv, summaryFileName, type RowView } from '../../internal/api/csv';
import { CsvHistory } from '../../internal/api/csv-history';
import { decodeSummary, encodeSummary, GrowingSummary } from '../../internal/api/csv-summary';
import { StepBuckets } from '../../internal/api/range';
import { logCapture } from '../support/log-capture';
import { sampleAt } from '../support/samples';
import { until } from '../support/wait';

const root = mkdtempSync(join(tmpdir(), 'tfo-api-summary-'));
after(() => rmSync(root, { recursive: true, force: true }));


// Four days: three over, the fourth (today, per the history's clock) half written.
const DAY0 = Math.floor(Date.parse('2026-11-20T00:00:00Z') / 1000);
const NOW_MS = (DAY0 + 3 * 86_400 + 43_200) * 1000;
const clock = (): number => NOW_MS;

/** Deterministic values with decimals, so that sums depend on the order they are added in. */
function noise(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/**
 * One row about every 7 s with irregular values, plus what real files hold: a torn row, rows of
 * another version under its own header and this version's header again, missing values, a third
 * CPU, a host rename, and a clock stepped back 90 s.
 */
function writeHistory(dir: string): number {
  mkdirSync(dir, { recursive: true });
  let rows = 0;
  const random = noise(42);
  for (let day = 0; day < 4; day += 1) {
    const start = DAY0 + day * 86_400;
    const end = day === 3 ? start + 43_000 : start + 86_400;
    let text = CSV_HEADER + '\r\n';
    let n = 0;
    for (let ts = start + random() * 3; ts < end; ts += 4 + random() * 6) {
      n += 1;
      const at = Math.round(ts * 1000) / 1000;
      const cores = n % 997 === 0 ? [random() * 100, random() * 100, random() * 100] : [Math.round(random() * 10_000) / 100, Math.round(random() * 10_000) / 100];
      const sample = sampleAt(at, {
        cpu_total: Math.round(random() * 10_000) / 100, cpu_per_core: cores, mem_used: Math.floor(random() * 8e9), load1: n % 13 === 0 ? null : random() * 4,
        net_rx_bps: Math.round(random() * 1e8) / 100, disk_write_bps: n % 29 === 0 ? null : random() * 1e6, host: day === 2 && ts > start + 50_000 ? 'web-1-renamed' : 'web-1',
      });
      text += formatRow(sample);
      rows += 1;
      if (day === 1 && n === 3_000) text += formatRow(sampleAt(at + 1)).slice(0, 60) + '\r\n';
      if (day === 1 && n === 5_000) {
        text += 'ts_unix,host,cpu_total,gpu_temp\r\n';
        for (let k = 1; k <= 40; k += 1) text += `${(at + k * 2).toFixed(3)},older,${(random() * 100).toFixed(2)},70\r\n`;
        rows += 40;
        text += CSV_HEADER + '\r\n';
        ts += 90;
      }
      if (day === 2 && n === 7_000) ts -= 90;
    }
    writeFileSync(join(dir, dayFileName(start * 1000)), text);
  }
  return rows;
}

const sourceDir = join(root, 'history');
const ROWS = writeHistory(sourceDir);

/** A directory with the day files alone (no summary): a history there reads rows only. */
function copyOfRows(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(sourceDir).filter((f) => f.endsWith('.csv'))) copyFileSync(join(sourceDir, file), join(dir, file));
  return dir;
}

interface Query {
  from: number;
  to: number;
  before: number;
  step?: number;
}

const QUERIES: Query[] = [];
for (const step of [60, 300, 3600, 90]) {
  QUERIES.push({ from: DAY0 + 123.4, to: DAY0 + 3 * 86_400 + 18_017.2, before: Infinity, step }); // over every day, unaligned edges
  QUERIES.push({ from: DAY0, to: DAY0 + 4 * 86_400, before: Infinity, step }); // everything
  QUERIES.push({ from: DAY0 + 86_400 + 3_601.7, to: DAY0 + 86_400 + 40_000.25, before: Infinity, step }); // inside one day, over the foreign rows
  QUERIES.push({ from: DAY0 + 2 * 86_400 + 49_000, to: DAY0 + 3 * 86_400 + 100, before: DAY0 + 2 * 86_400 + 70_017.5, step }); // cut by the ring, over the clock step
}
QUERIES.push({ from: DAY0 + 86_400 - 3_000.5, to: DAY0 + 86_400 + 7_000.5, before: Infinity }); // rows, over a midnight
QUERIES.push({ from: DAY0 + 2 * 86_400 + 60_000, to: DAY0 + 3 * 86_400 + 3_000, before: DAY0 + 2 * 86_400 + 80_000 });

// The past days QUERIES read from summaries: 8 for each step (3 + 3 + 1 + 1), 3 for the row queries.
const SUMMARIES_PER_PASS = 4 * 8 + 3;

/** The answer of a query as the route gives it, in JSON. */
function answer(history: CsvHistory, query: Query): string {
  if (query.step === undefined) {
    const rows: unknown[] = [];
    history.read(query.from, query.to, query.before, (row) => rows.push(sampleOfRow(row)));
    return JSON.stringify(rows);
  }
  const buckets = new StepBuckets(query.step);
  history.readBuckets(query.from, query.to, query.before, buckets);
  return JSON.stringify(buckets.finish());
}

/**
 * The answers read from the rows alone: every day file of the directory scanned whole, oldest
 * first, its rows in the range into the buckets, one source per file.
 */
function rawAnswers(dir: string): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort().map((f) => readFileSync(join(dir, f)));
  return QUERIES.map((query) => {
    const wanted = (row: RowView): boolean => row.values[0]! >= query.from && row.values[0]! <= query.to && row.values[0]! < query.before;
    if (query.step === undefined) {
      const rows: unknown[] = [];
      for (const bytes of files) scanCsv(bytes, (row) => wanted(row) && rows.push(sampleOfRow(row)));
      return JSON.stringify(rows);
    }
    const buckets = new StepBuckets(query.step);
    for (const bytes of files) {
      buckets.beginSource();
      scanCsv(bytes, (row) => wanted(row) && buckets.add(row));
    }
    return JSON.stringify(buckets.finish());
  });
}

const raw = rawAnswers(sourceDir);

async function summarized(history: CsvHistory): Promise<void> {
  history.summarizePastDays();
  await until('summaries written', () => (history.summarizing ? undefined : true));
}

describe('daily summaries', () => {
  it('a range answered from the summaries is the range answered from the rows, for steps 60, 300, 3600 and 90 s and unaligned edges', async () => {
    const logs = logCapture();
    const history = new CsvHistory(sourceDir, 7, logs.logger, clock);
    await summarized(history);
    const written = readdirSync(sourceDir).filter((f) => f.endsWith('.summary')).sort();
    assert.deepEqual(written, [0, 1, 2].map((d) => summaryFileName(dayFileName((DAY0 + d * 86_400) * 1000))), 'the three past days, not today');
    for (const [i, query] of QUERIES.entries()) assert.equal(answer(history, query), raw[i], JSON.stringify(query));
    assert.equal(history.reads.summaries, SUMMARIES_PER_PASS, JSON.stringify(history.reads));
    assert.equal(history.summariesRejected, 0);
    assert.deepEqual(logs.events().filter((e) => e.startsWith('api.csv')), ['api.csv_summarized', 'api.csv_summarized', 'api.csv_summarized']);
    // The answers are real: every whole row in a bucket once, the foreign rows and the renamed host among them.
    const hours = JSON.parse(raw[QUERIES.findIndex((q) => q.step === 3600 && q.from === DAY0)]!) as Array<{ samples: number }>;
    assert.equal(hours.length, 3 * 24 + 12);
    assert.equal(hours.reduce((sum, b) => sum + b.samples, 0), ROWS);
    const minutes = JSON.parse(raw[QUERIES.findIndex((q) => q.step === 60 && q.from === DAY0)]!) as Array<{ host: string; mem_total: number | null }>;
    assert.ok(minutes.some((b) => b.host === 'older' && b.mem_total === null) && minutes.some((b) => b.host === 'web-1-renamed'));
    history.close();
  });

  it('a step query over past days reads no row of them but those in the slots its edges cut', async () => {
    const history = new CsvHistory(sourceDir, 7, logCapture().logger, clock);
    await summarized(history);
    const buckets = new StepBuckets(300);
    history.readBuckets(DAY0 + 17.5, DAY0 + 2 * 86_400 + 3_570.5, Infinity, buckets);
    assert.deepEqual(history.reads, { summaries: 3, scanned: 0, spans: 2 });
    history.close();
  });

  for (const [what, spoil] of [
    ['truncated', (path: string) => truncateSync(path, Math.floor(readFileSync(path).length / 2))],
    ['corrupt', (path: string) => {
      const bytes = readFileSync(path);
      bytes[bytes.length - 500] ^= 0x40;
      writeFileSync(path, bytes);
    }],
    ['not a summary', (path: string) => writeFileSync(path, 'hello\n')],
    ['empty', (path: string) => writeFileSync(path, '')],
  ] as const) {
    it(`a ${what} summary: logged once, the rows read instead, then written again`, async () => {
      const dir = copyOfRows(`spoiled-${what}`);
      const logs = logCapture();
      const history = new CsvHistory(dir, 7, logs.logger, clock);
      await summarized(history);
      const day1 = join(dir, summaryFileName(dayFileName((DAY0 + 86_400) * 1000)));
      spoil(day1);
      for (const [i, query] of QUERIES.entries()) assert.equal(answer(history, query), raw[i], JSON.stringify(query));
      assert.equal(history.summariesRejected, 1);
      assert.equal(logs.events().filter((e) => e === 'api.csv_summary_invalid').length, 1);
      await until('written again', () => (history.summarizing ? undefined : true));
      assert.doesNotThrow(() => decodeSummary(readFileSync(day1)));
      const before = history.reads.summaries;
      for (const [i, query] of QUERIES.entries()) assert.equal(answer(history, query), raw[i], JSON.stringify(query));
      assert.equal(history.reads.summaries - before, SUMMARIES_PER_PASS, 'every past day from its summary again');
      assert.equal(history.summariesRejected, 1);
      history.close();
    });
  }

  it('a day file changed after its summary: the summary is stale, the rows are read, and it is written again', async () => {
    const dir = copyOfRows('stale');
    const logs = logCapture();
    const history = new CsvHistory(dir, 7, logs.logger, clock);
    await summarized(history);
    const csv = join(dir, dayFileName(DAY0 * 1000));
    const late = formatRow(sampleAt(DAY0 + 500.5, { cpu_total: 150 }));
    appendFileSync(csv, late);
    const query = { from: DAY0, to: DAY0 + 3_600, before: Infinity, step: 300 };
    const withLate = answer(history, query);
    assert.equal(JSON.parse(withLate)[1].cpu_total_max, 150, 'the appended row counts');
    assert.equal(logs.events().filter((e) => e === 'api.csv_summary_invalid').length, 1);
    await until('written again', () => (history.summarizing ? undefined : true));
    assert.equal(decodeSummary(readFileSync(join(dir, summaryFileName(dayFileName(DAY0 * 1000))))).csvBytes, readFileSync(csv).length);
    assert.equal(answer(history, query), withLate);
    history.close();
  });

  it('a summary that cannot be written: logged once per streak, not tried again for the same file, answers still right', async () => {
    const dir = copyOfRows('unwritable');
    const logs = logCapture();
    const history = new CsvHistory(dir, 7, logs.logger, clock);
    // A directory where the summary goes: the rename onto it fails.
    for (const d of [0, 1, 2]) mkdirSync(join(dir, summaryFileName(dayFileName((DAY0 + d * 86_400) * 1000)), 'occupied'), { recursive: true });
    await summarized(history);
    for (const [i, query] of QUERIES.entries()) assert.equal(answer(history, query), raw[i], JSON.stringify(query));
    await until('tried', () => (history.summarizing ? undefined : true));
    assert.deepEqual(logs.events().filter((e) => e.startsWith('api.csv_summary.')), ['api.csv_summary.failing']);
    assert.equal(history.reads.summaries, 0);
    history.close();
  });

  it("today's file is read on from where the last range stopped, with the same answers as from all its rows", async () => {
    const dir = copyOfRows('today');
    const history = new CsvHistory(dir, 7, logCapture().logger, clock);
    await summarized(history);
    const today = join(dir, dayFileName(NOW_MS));
    const check = (what: string): void => {
      const expected = rawAnswers(dir);
      for (const [i, query] of QUERIES.entries()) assert.equal(answer(history, query), expected[i], `${what}: ${JSON.stringify(query)}`);
    };
    check('as written');
    // The agent goes on writing; a crash leaves a torn row that a restart closes; a row half written.
    for (let n = 0; n < 30; n += 1) history.append(sampleAt(DAY0 + 3 * 86_400 + 43_050 + n * 7.5, { cpu_total: n }));
    check('appended');
    history.close();
    appendFileSync(today, formatRow(sampleAt(DAY0 + 3 * 86_400 + 43_300)).slice(0, 30));
    check('a torn tail');
    for (let n = 0; n < 30; n += 1) history.append(sampleAt(DAY0 + 3 * 86_400 + 43_400 + n * 3.1, { cpu_total: 100 - n }));
    check('after the torn row');
    const tail = JSON.parse(answer(history, { from: DAY0 + 3 * 86_400 + 43_000, to: DAY0 + 4 * 86_400, before: Infinity, step: 60 })) as Array<{ samples: number }>;
    assert.equal(tail.reduce((sum, b) => sum + b.samples, 0), 60, 'the rows the agent wrote, none twice, the torn one left out');
    history.close();
  });

  it('summaries are written a piece per turn of the event loop, so the sampler and the listener do not wait', async () => {
    const dir = copyOfRows('pieces');
    const history = new CsvHistory(dir, 7, logCapture().logger, clock);
    let turns = 0;
    const tick = setInterval(() => (turns += history.summarizing ? 1 : 0), 0);
    history.summarizePastDays();
    await until('summaries written', () => (history.summarizing ? undefined : true));
    clearInterval(tick);
    const bytes = [0, 1, 2].reduce((sum, d) => sum + readFileSync(join(dir, dayFileName((DAY0 + d * 86_400) * 1000))).length, 0);
    // 256 KB a turn: the other timers ran between the pieces.
    assert.ok(turns >= Math.floor(bytes / (256 << 10)), `${turns} turns for ${bytes} bytes`);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.summary')).length, 3);
    history.close();
  });

  it('midnight: the day just ended is summarised, the new one is not', async () => {
    const dir = join(root, 'midnight');
    let now = (DAY0 + 86_400 - 2) * 1000;
    const history = new CsvHistory(dir, 7, logCapture().logger, () => now);
    history.append(sampleAt(DAY0 + 86_400 - 2));
    history.append(sampleAt(DAY0 + 86_400 - 1));
    now += 2000;
    history.append(sampleAt(DAY0 + 86_400));
    await until('summarised', () => (history.summarizing ? undefined : true));
    const summary = decodeSummary(readFileSync(join(dir, summaryFileName(dayFileName(DAY0 * 1000)))));
    assert.deepEqual([summary.slots.count, summary.slots.start(0), summary.slots.rows(0)], [1, DAY0 + 86_400 - 60, 2]);
    assert.equal(existsSync(join(dir, summaryFileName(dayFileName((DAY0 + 86_400) * 1000)))), false);
    history.close();
  });

  it('encodes and decodes every slot value exactly', () => {
    const bytes = readFileSync(join(sourceDir, dayFileName((DAY0 + 86_400) * 1000)));
    const growing = new GrowingSummary();
    growing.extend(bytes);
    const summary = growing.summary(1_764_000_000_123.456);
    const decoded = decodeSummary(encodeSummary(summary));
    assert.deepEqual(decoded, summary);
    assert.deepEqual([summary.headers.length, summary.slots.cores, summary.slots.hosts], [3, 3, ['web-1', 'older']]);
    assert.ok(summary.slots.count > 1400);
  });
});
