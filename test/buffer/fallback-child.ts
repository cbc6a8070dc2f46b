// Child process of the read-only directory test: opens a buffer in the directory given, spills
// `batches` batches of 10 points with a memory queue of `limit`, and prints what happened.
import { Writable } from 'node:stream';
import { SpillBuffer } from '../../internal/buffer/buffer';
import { defaultConfig } from '../../internal/config/defaults';
import { ExportAccounting } from '../../internal/exporter/accounting';
import { createLogger } from '../../internal/log/logger';

const [dir, limit, batches] = process.argv.slice(2);
const events: string[] = [];
const logger = createLogger({
  level: 'info',
  format: 'json',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) events.push(String((JSON.parse(line) as { event?: string }).event));
      done();
    },
  }),
});
const accounting = new ExportAccounting();
const buffer = SpillBuffer.open({ config: { ...defaultConfig().buffer, path: dir, memory_fallback_batches: Number(limit) }, accounting, logger });
for (let i = 0; i < Number(batches); i += 1) {
  accounting.recordProduced(10);
  buffer.accept({ body: Buffer.from([0x0a, 0x00]), points: 10, createdAt: Date.now() });
}
buffer.maintain();
console.log(JSON.stringify({ fallback: buffer.inMemoryFallback, backlogBatches: buffer.stats().batches, accounting: accounting.snapshot(), unaccounted: accounting.unaccounted(), events }));
