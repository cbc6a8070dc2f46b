// Stands in for the spill buffer at the exporter's seam: keeps what it is given and sends nothing
// (no replayer competing with the live sends a test counts).
import type { ExportAccounting } from '../../internal/exporter/accounting';
import type { EncodedBatch, SendResult, SpillSink } from '../../internal/exporter/types';

export class RecordingSpill implements SpillSink {
  readonly batches: EncodedBatch[] = [];
  readonly failures: Array<Extract<SendResult, { outcome: 'retryable' }>> = [];
  constructor(private readonly accounting: ExportAccounting) {}
  async spill(batch: EncodedBatch, failure: Extract<SendResult, { outcome: 'retryable' }>): Promise<void> {
    this.batches.push(batch);
    this.failures.push(failure);
    this.accounting.recordSpilled(batch.points);
  }
}
