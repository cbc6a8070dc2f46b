// The agent's log lines: what an operator's log pipeline parses, and what must never appear in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, silentLogger, type LoggerOptions } from '../../internal/log/logger';
import { RotatingFile } from '../../internal/log/rotating-file';

function capture(options: Omit<LoggerOptions, 'destination'>): { logger: ReturnType<typeof createLogger>; writes: string[] } {
  const writes: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ ...options, destination }), writes };
}

test('one JSON line per event: level, time, service, bindings, fields, msg, in that order', () => {
  const { logger, writes } = capture({ level: 'info', format: 'json' });
  logger.child({ component: 'buffer' }).info({ event: 'buffer.opened', points: 3 }, 'opened');
  assert.equal(writes.length, 1);
  assert.ok(writes[0].endsWith('}\n') && !writes[0].slice(0, -1).includes('\n'));
  const line = JSON.parse(writes[0]) as Record<string, unknown>;
  assert.deepEqual(Object.keys(line), ['level', 'time', 'service', 'component', 'event', 'points', 'msg']);
  assert.equal(line.level, 'info');
  assert.equal(line.service, 'tfo-agent');
  assert.ok(Math.abs(Date.parse(String(line.time)) - Date.now()) < 60_000, String(line.time));
});

test('levels below the configured one are not written; a level change reaches existing children', () => {
  const { logger, writes } = capture({ level: 'warn', format: 'json' });
  const child = logger.child({ collector: 'cpu' });
  child.info({ event: 'a' }, 'not written');
  child.error({ event: 'b' }, 'written');
  logger.level = 'debug';
  child.debug({ event: 'c' }, 'written after the reload');
  assert.deepEqual(writes.map((w) => (JSON.parse(w) as { event: string }).event), ['b', 'c']);
  const silent = silentLogger();
  silent.fatal({ event: 'd' }, 'nothing');
  assert.equal(silent.level, 'silent');
});

test('secrets are masked wherever they nest, header names in any case', () => {
  const { logger, writes } = capture({ level: 'info', format: 'json' });
  logger.info({
    event: 'x',
    api_key_secret: 'tfs_one',
    headers: { 'X-TelemetryFlow-Key-Secret': 'tfs_two', 'x-api-key-secret': 'tfs_three', accept: 'ok' },
    config: { telemetryflow: { api_key_secret: 'tfs_four', nested: [{ token: 'tfs_five', password: 'tfs_six', Authorization: 'Bearer tfs_seven' }] } },
  }, 'with secrets');
  for (const secret of ['tfs_one', 'tfs_two', 'tfs_three', 'tfs_four', 'tfs_five', 'tfs_six', 'tfs_seven']) assert.ok(!writes[0].includes(secret), secret);
  const line = JSON.parse(writes[0]) as { headers: Record<string, string> };
  assert.deepEqual(line.headers, { 'X-TelemetryFlow-Key-Secret': '***', 'x-api-key-secret': '***', accept: 'ok' });
});

test('the credentials of a URL are masked in any field, message and error', () => {
  for (const format of ['json', 'text'] as const) {
    const { logger, writes } = capture({ level: 'info', format });
    logger.warn(
      { event: 'x', url: 'http://api-user:pw_one@10.0.0.1/api/v2', nested: { target: 'https://tok_two@collector:4318/v1/metrics' }, err: new Error('GET http://u:pw_three@h/x refused') },
      'posting to http://u:pw_four@h:3100 and u:pw_five@h:4317',
    );
    for (const secret of ['pw_one', 'tok_two', 'pw_three', 'pw_four', 'pw_five']) assert.ok(!writes[0].includes(secret), `${format}: ${secret} in ${writes[0]}`);
    // An object that writes itself as JSON (a URL) is masked like the text it becomes.
    logger.warn({ event: 'z', target: new URL('http://api-user:pw_six@10.0.0.1/api/v2'), list: [{ toJSON: () => ({ at: 'http://u:pw_seven@h/' }) }] });
    for (const secret of ['pw_six', 'pw_seven']) assert.ok(!writes[1].includes(secret), `${format}: ${secret} in ${writes[1]}`);
    assert.ok(writes[1].includes('http://api-user:***@10.0.0.1/api/v2'), writes[1]);
    assert.ok(writes[0].includes('http://api-user:***@10.0.0.1/api/v2'), writes[0]);
    assert.ok(writes[0].includes('https://***@collector:4318'), writes[0]);
  }
  const { logger, writes } = capture({ level: 'info', format: 'json' });
  logger.info({ event: 'y', mail: 'ops@example.org', note: 'a@b, c:d' }, 'no URL here: ops@example.org');
  assert.match(writes[0], /"mail":"ops@example\.org","note":"a@b, c:d"/, 'text that is not a URL stays as it is');
});

test('errors, bigints, dates and cycles are written, not thrown on', () => {
  const { logger, writes } = capture({ level: 'info', format: 'json' });
  const err = Object.assign(new TypeError('refused'), { code: 'ECONNREFUSED' });
  const cycle: Record<string, unknown> = { name: 'a' };
  cycle.self = cycle;
  const shared = { n: 1 };
  logger.error({ event: 'x', err, big: 2n ** 70n, at: new Date(0), cycle, one: shared, two: shared }, 'odd values');
  const line = JSON.parse(writes[0]) as Record<string, any>;
  assert.equal(line.err.type, 'TypeError');
  assert.equal(line.err.message, 'refused');
  assert.equal(line.err.code, 'ECONNREFUSED');
  assert.match(line.err.stack, /TypeError: refused\n\s+at /);
  assert.equal(line.big, (2n ** 70n).toString());
  assert.equal(line.at, '1970-01-01T00:00:00.000Z');
  assert.deepEqual(line.cycle, { name: 'a', self: '[Circular]' });
  assert.deepEqual([line.one, line.two], [{ n: 1 }, { n: 1 }]);
});

test('text format: time LEVEL msg key=value', () => {
  const { logger, writes } = capture({ level: 'info', format: 'text' });
  logger.warn({ event: 'export.failing', reason: 'refused', token: 'tfs_x' }, 'exports are failing');
  assert.match(writes[0], /^\d{4}-\d\d-\d\dT\S+Z WARN  exports are failing service="tfo-agent" event="export\.failing" reason="refused" token="\*\*\*"\n$/);
});

test('logging.file: lines are appended, the directory is created', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-log-'));
  try {
    const file = join(dir, 'logs', 'agent.log');
    const written = async (count: number): Promise<Array<{ n: number }>> => {
      for (let waited = 0; ; waited += 20) {
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
        const lines = text.split('\n').filter(Boolean);
        if (lines.length >= count || waited > 5_000) return lines.map((l) => JSON.parse(l) as { n: number });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const stdout: string[] = [];
    const destination = { write: (line: string) => stdout.push(line) } as unknown as NodeJS.WritableStream;
    createLogger({ level: 'info', format: 'json', file, destination }).info({ event: 'start', n: 1 }, 'started');
    await written(1);
    createLogger({ level: 'info', format: 'json', file, destination }).info({ event: 'start', n: 2 }, 'started again');
    assert.deepEqual((await written(2)).map((l) => l.n), [1, 2]);
    assert.equal(stdout.length, 2, 'the lines go to the stream as well as to the file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logging.file rotates at the size limit and keeps max_files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-log-rotate-'));
  try {
    const file = join(dir, 'agent.log');
    const rotating = new RotatingFile(file, { maxBytes: 100, maxFiles: 2 });
    const line = (n: number): Buffer => Buffer.from(`${JSON.stringify({ n, pad: 'x'.repeat(30) })}\n`);
    for (let n = 1; n <= 10; n += 1) rotating.append(line(n));
    rotating.end();
    const numbers = (path: string): number[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { n: number }).n);
    // 49-byte lines, 100 bytes a file: two lines each; the live file and two rotated ones remain.
    assert.deepEqual(numbers(file), [9, 10]);
    assert.deepEqual(numbers(`${file}.1`), [7, 8]);
    assert.deepEqual(numbers(`${file}.2`), [5, 6]);
    assert.equal(existsSync(`${file}.3`), false, 'older files beyond max_files are deleted');
    for (const path of [file, `${file}.1`, `${file}.2`]) assert.ok(statSync(path).size <= 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logging.file continues an existing file across restarts, counting its size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-log-rotate-'));
  try {
    const file = join(dir, 'agent.log');
    writeFileSync(file, 'x'.repeat(90) + '\n');
    const rotating = new RotatingFile(file, { maxBytes: 100, maxFiles: 1 });
    rotating.append(Buffer.from('y'.repeat(20) + '\n'));
    rotating.end();
    assert.equal(readFileSync(`${file}.1`, 'utf8'), 'x'.repeat(90) + '\n');
    assert.equal(readFileSync(file, 'utf8'), 'y'.repeat(20) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
