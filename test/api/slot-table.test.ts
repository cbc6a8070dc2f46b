// The slot table that step buckets and daily summaries are built in: its records are the rows
// added up slot by slot in row order, in time order, whatever the rows do on the way (more CPUs
// from one row on, a clock stepped back into minutes with rows and into a gap, hosts met out of
// time order), and a table cleared for another day holds that day's slots alone.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CSV_HEADER, dayFileName, formatRow, scanCsv, summaryFileName, type RowView } from '../../internal/api/csv';
import { CsvHistory } from '../../internal/api/csv-history';
import { decodeSummary } from '../../internal/api/csv-summary';
import { SlotTable, StepBuckets } from '../../internal/api/range';
import { NUMERIC_FIELDS } from '../../internal/api/sample';
import { logCapture } from '../support/log-capture';
import { sampleAt } from '../support/samples';
import { until } from '../support/wait';

const root = mkdtempSync(join(tmpdir(), 'tfo-api-slots-'));
after(() => rmSync(root, { recursive: true, force: true }));

const DAY0 = Math.floor(Date.parse('2026-11-20T00:00:00Z') / 1000);

/** Deterministic values with decimals, so that sums depend on the order they are added in. */
function noise(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** A day file whose rows grow from 2 to 4, 3 and 8 CPUs, step the clock back and change host. */
function unruly(day: number, cpus = (n: number): number => (n < 400 ? 2 : n < 403 ? 4 : n % 97 === 0 ? 8 : 3)): Buffer {
  const random = noise(day + 1);
  let text = CSV_HEADER + '\r\n';
  let n = 0;
  for (let ts = day + 0.7; ts < day + 6 * 3_600; ts += 2 + random() * 9) {
    n += 1;
    const cores = Array.from({ length: cpus(n) }, () => Math.round(random() * 10_000) / 100 + random() / 1000);
    text += formatRow(sampleAt(Math.round(ts * 1000) / 1000, {
      cpu_total: n % 31 === 0 ? null : random() * 100, cpu_per_core: cores, load1: n % 7 === 0 ? null : random() * 4,
      host: n % 600 < 5 ? `other-${n % 3}` : n >= 915 && n < 935 ? 'after-the-gap' : n > 950 && n < 970 ? 'in-the-gap' : 'web-1',
    }));
    if (n === 700) ts -= 500; // back into minutes that have rows
    if (n === 900) ts += 1_200; // a gap…
    if (n === 950) ts -= 900; // …and back into it: slots (and a host) made after later ones
    if (n === 1_500) ts = day + 30; // back to the first minute
  }
  return Buffer.from(text);
}

/** The records as the summary layout has them (docs/API.md), added up one slot object at a time. */
function expectedRecords(bytes: Buffer): { values: number[]; cores: number; hosts: string[] } {
  interface Expected { start: number; rows: number; host: string; sums: number[]; counts: number[]; cpuMax: number; coreSums: number[]; coreCounts: number[]; minTs: number; maxTs: number; first: number; end: number }
  const slots = new Map<number, Expected>();
  scanCsv(bytes, (row: RowView) => {
    const start = Math.floor(row.values[0]! / 60) * 60;
    let slot = slots.get(start);
    if (slot === undefined) {
      slot = { start, rows: 0, host: row.host(), sums: NUMERIC_FIELDS.map(() => 0), counts: NUMERIC_FIELDS.map(() => 0), cpuMax: -Infinity, coreSums: [], coreCounts: [], minTs: Infinity, maxTs: -Infinity, first: Infinity, end: 0 };
      slots.set(start, slot);
    }
    slot.rows += 1;
    NUMERIC_FIELDS.forEach((field, f) => {
      const value = row.values[f + 1]!;
      if (Number.isNaN(value)) return;
      slot.sums[f] += value;
      slot.counts[f] += 1;
      if (field === 'cpu_total') slot.cpuMax = Math.max(slot.cpuMax, value);
    });
    row.cores.forEach((share, core) => {
      slot.coreSums[core] = (slot.coreSums[core] ?? 0) + share;
      slot.coreCounts[core] = (slot.coreCounts[core] ?? 0) + 1;
    });
    slot.minTs = Math.min(slot.minTs, row.values[0]!);
    slot.maxTs = Math.max(slot.maxTs, row.values[0]!);
    slot.first = Math.min(slot.first, row.start);
    slot.end = Math.max(slot.end, row.end);
  });
  const ordered = [...slots.values()].sort((a, b) => a.start - b.start);
  const cores = Math.max(...ordered.map((slot) => slot.coreSums.length));
  const hosts: string[] = [];
  const values = ordered.flatMap((slot) => {
    if (!hosts.includes(slot.host)) hosts.push(slot.host);
    const perCore = (list: number[]): number[] => Array.from({ length: cores }, (_, core) => list[core] ?? 0);
    return [slot.start, slot.rows, hosts.indexOf(slot.host), slot.cpuMax, slot.minTs, slot.maxTs, slot.first, slot.end, ...slot.sums, ...slot.counts, ...perCore(slot.coreSums), ...perCore(slot.coreCounts)];
  });
  return { values, cores, hosts };
}

function recordsOf(table: SlotTable, bytes: Buffer): { values: number[]; cores: number; hosts: string[] } {
  scanCsv(bytes, (row) => table.add(row));
  const records = table.records();
  return { values: Array.from(records.values), cores: records.cores, hosts: [...records.hosts] };
}

describe('slot table', () => {
  it('holds each minute added up in row order, in time order, as CPUs are added, the clock steps back and hosts change', () => {
    const bytes = unruly(DAY0);
    const expected = expectedRecords(bytes);
    assert.deepEqual([expected.cores, expected.hosts.slice(-2)], [8, ['in-the-gap', 'after-the-gap']], 'the file does what it is meant to');
    assert.deepEqual(recordsOf(new SlotTable(60), bytes), expected);
  });

  it('cleared, holds the next day alone: its CPUs, its hosts, its slots', () => {
    const table = new SlotTable(60);
    recordsOf(table, unruly(DAY0));
    const next = unruly(DAY0 + 86_400, () => 2);
    const expected = expectedRecords(next);
    assert.equal(expected.cores, 2);
    assert.deepEqual(recordsOf(table.clear(), next), expected);
  });

  it('summaries written one after the other in one table give the answers of the rows', async () => {
    const dir = join(root, 'pass');
    mkdirSync(dir);
    // The first day with up to 8 CPUs, the second with 2: the table is laid out again for each.
    const days = [unruly(DAY0), unruly(DAY0 + 86_400, () => 2), unruly(DAY0 + 2 * 86_400)];
    days.forEach((bytes, d) => writeFileSync(join(dir, dayFileName((DAY0 + d * 86_400) * 1000)), bytes));
    const history = new CsvHistory(dir, 7, logCapture().logger, () => (DAY0 + 3 * 86_400) * 1000);
    history.summarizePastDays();
    await until('summaries written', () => (history.summarizing ? undefined : true));
    days.forEach((bytes, d) => {
      const summary = decodeSummary(readFileSync(join(dir, summaryFileName(dayFileName((DAY0 + d * 86_400) * 1000)))));
      assert.deepEqual({ values: Array.from(summary.slots.values), cores: summary.slots.cores, hosts: summary.slots.hosts }, expectedRecords(bytes), `day ${d}`);
    });
    for (const step of [60, 300, 3_600]) {
      const fromRows = new StepBuckets(step);
      for (const bytes of days) {
        fromRows.beginSource();
        scanCsv(bytes, (row) => fromRows.add(row));
      }
      const fromSummaries = new StepBuckets(step);
      history.readBuckets(DAY0, DAY0 + 3 * 86_400 - 1, Infinity, fromSummaries);
      assert.equal(JSON.stringify(fromSummaries.finish()), JSON.stringify(fromRows.finish()), `step ${step}`);
    }
    assert.equal(history.reads.summaries, 9);
    history.close();
  });
});
