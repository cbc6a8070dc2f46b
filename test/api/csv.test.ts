// The daily CSV files: RFC 4180 rows that survive a crash mid-line, another version's header and
// restarts; retention by file name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CSV_HEADER, dayFileName, dayOfFileName, expiredDayFiles, formatRow, partialSummaryFileName, sampleOfRow, scanCsv, summaryFileName } from '../../internal/api/csv';
import type { Sample } from '../../internal/api/sample';
import { sampleAt } from '../support/samples';

function scanText(text: string): { samples: Sample[]; skipped: number } {
  const samples: Sample[] = [];
  const skipped = scanCsv(Buffer.from(text), (row) => samples.push(sampleOfRow(row)));
  return { samples, skipped };
}

describe('CSV rows', () => {
  it('round-trips a sample: header, CRLF, per-core list as a quoted JSON list', () => {
    const sample = sampleAt(1_796_293_590.926);
    const row = formatRow(sample);
    assert.match(row, /^1796293590\.926,2026-12-03T10:26:30\.926Z,web-1,12\.5,"\[10,15\]",40\.25,8000000000,/);
    assert.ok(row.endsWith('\r\n'));
    const { samples, skipped } = scanText(CSV_HEADER + '\r\n' + row);
    assert.equal(skipped, 0);
    assert.deepEqual(samples, [sample]);
  });

  it('writes null as an empty field and reads it back as null; LF line ends are read too', () => {
    const sample = sampleAt(1_796_293_591, { cpu_total: null, cpu_per_core: [], freq_mhz: null, disk_read_bps: null });
    const { samples } = scanText(`${CSV_HEADER}\n${formatRow(sample).replace('\r\n', '\n')}`);
    assert.deepEqual(samples, [sample]);
  });

  it('quotes a host name with a comma or a quote (RFC 4180) and reads it back', () => {
    const sample = sampleAt(1_796_293_592, { host: 'rack 4, "blue"' });
    const row = formatRow(sample);
    assert.match(row, /,"rack 4, ""blue""",/);
    assert.equal(scanText(CSV_HEADER + '\r\n' + row).samples[0]!.host, 'rack 4, "blue"');
  });

  it('skips a torn row (a crash mid-line) and keeps every row after it', () => {
    const rows = [1, 2, 3, 4].map((n) => formatRow(sampleAt(1_796_293_600 + n)));
    const torn = [
      rows[0],
      rows[1]!.slice(0, 60) + '\r\n', // cut inside the per-core list: its quote never closes
      rows[2]!.slice(0, 30) + '\r\n', // cut after a few fields
      rows[2],
      rows[3]!.slice(0, 100), // the last row, still being written: no line end yet
    ].join('');
    const { samples, skipped } = scanText(CSV_HEADER + '\r\n' + torn);
    assert.deepEqual(samples.map((s) => s.ts_unix), [1_796_293_601, 1_796_293_603]);
    assert.equal(skipped, 3);
  });

  it("reads a file under another version's header by column name, and follows a header change mid-file", () => {
    const foreign = 'ts_unix,host,cpu_total,gpu_temp,mem_percent\r\n1796293700.5,db-2,55.5,71,80\r\n';
    const continued = CSV_HEADER + '\r\n' + formatRow(sampleAt(1_796_293_701));
    const { samples, skipped } = scanText(foreign + continued);
    assert.equal(skipped, 0);
    assert.equal(samples.length, 2);
    assert.deepEqual(
      { ts: samples[0]!.ts_unix, host: samples[0]!.host, cpu: samples[0]!.cpu_total, mem: samples[0]!.mem_percent, load: samples[0]!.load1, cores: samples[0]!.cpu_per_core },
      { ts: 1_796_293_700.5, host: 'db-2', cpu: 55.5, mem: 80, load: null, cores: [] },
    );
    assert.deepEqual(samples[1], sampleAt(1_796_293_701));
  });

  it('skips every row under a header without ts_unix, until a known header comes', () => {
    const text = 'time,cpu\r\n1796293800,5\r\n1796293801,6\r\n' + CSV_HEADER + '\r\n' + formatRow(sampleAt(1_796_293_802));
    const { samples, skipped } = scanText(text);
    assert.deepEqual(samples.map((s) => s.ts_unix), [1_796_293_802]);
    assert.equal(skipped, 2);
  });

  it('skips rows with a field too many or too few, or no timestamp', () => {
    const good = formatRow(sampleAt(1_796_293_900));
    const text = [CSV_HEADER, good.trimEnd() + ',extra', good.trimEnd().replace(/,[^,]*$/, ''), ',' + good.trimEnd().slice(good.indexOf(',') + 1), good.trimEnd()].join('\r\n') + '\r\n';
    const { samples, skipped } = scanText(text);
    assert.equal(samples.length, 1);
    assert.equal(skipped, 3);
  });

  it('reads numbers with exponents and negative values', () => {
    const text = 'ts_unix,mem_total,load1\r\n1.7962939e9,1e21,-0.5\r\n';
    const [sample] = scanText(text).samples;
    assert.deepEqual([sample!.ts_unix, sample!.mem_total, sample!.load1], [1_796_293_900, 1e21, -0.5]);
  });
});

describe('day files and retention', () => {
  it('names a file by the UTC date', () => {
    assert.equal(dayFileName(Date.parse('2026-12-03T23:59:59.999Z')), 'metrics-2026-12-03.csv');
    assert.equal(dayFileName(Date.parse('2026-12-04T00:00:00Z')), 'metrics-2026-12-04.csv');
    assert.equal(dayOfFileName('metrics-2026-12-03.csv'), Date.parse('2026-12-03T00:00:00Z'));
    assert.equal(dayOfFileName('metrics-2026-12-03.csv.bak'), undefined);
    assert.equal(dayOfFileName('notes.csv'), undefined);
    assert.equal(summaryFileName('metrics-2026-12-03.csv'), 'metrics-2026-12-03.summary');
    assert.equal(dayOfFileName('metrics-2026-12-03.summary'), Date.parse('2026-12-03T00:00:00Z'));
    assert.equal(dayOfFileName('metrics-2026-12-03.summary.tmp'), Date.parse('2026-12-03T00:00:00Z'));
    assert.equal(dayOfFileName('metrics-2026-12-03.summary.bak'), undefined);
    assert.equal(partialSummaryFileName('metrics-2026-12-03.csv'), 'metrics-2026-12-03.partial');
    assert.equal(dayOfFileName('metrics-2026-12-03.partial'), Date.parse('2026-12-03T00:00:00Z'));
    assert.equal(dayOfFileName('metrics-2026-12-03.partial.tmp'), Date.parse('2026-12-03T00:00:00Z'));
  });

  it('deletes exactly the days that ended more than retention_days ago', () => {
    const names = ['metrics-2026-11-24.csv', 'metrics-2026-11-25.csv', 'metrics-2026-11-26.csv', 'metrics-2026-12-02.csv', 'metrics-2026-12-03.csv', 'other.csv', 'metrics-2026-11-01.csv.gz'];
    const now = Date.parse('2026-12-03T10:00:00Z');
    // 7 days back from now is 2026-11-26T10:00: that day is still needed.
    assert.deepEqual(expiredDayFiles(names, now, 7), ['metrics-2026-11-24.csv', 'metrics-2026-11-25.csv']);
    assert.deepEqual(expiredDayFiles(names, now, 1), ['metrics-2026-11-24.csv', 'metrics-2026-11-25.csv', 'metrics-2026-11-26.csv']);
    const withSummaries = names.flatMap((name) => (name.endsWith('.csv') ? [name, summaryFileName(name)] : [name]));
    assert.deepEqual(expiredDayFiles(withSummaries, now, 7), ['metrics-2026-11-24.csv', 'metrics-2026-11-24.summary', 'metrics-2026-11-25.csv', 'metrics-2026-11-25.summary']);
  });
});
