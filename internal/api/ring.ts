import type { Sample } from './sample';

/** The last `capacity` samples in memory, oldest overwritten first. */
export class SampleRing {
  private readonly slots: Array<Sample | undefined>;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<Sample | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(sample: Sample): void {
    this.slots[this.next] = sample;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  latest(): Sample | undefined {
    return this.count === 0 ? undefined : this.slots[(this.next - 1 + this.capacity) % this.capacity];
  }

  oldest(): Sample | undefined {
    return this.count === 0 ? undefined : this.slots[(this.next - this.count + this.capacity) % this.capacity];
  }

  /** Samples with from ≤ ts_unix ≤ to (seconds), oldest first. */
  between(from: number, to: number): Sample[] {
    const out: Sample[] = [];
    const first = this.next - this.count + this.capacity;
    for (let i = 0; i < this.count; i += 1) {
      const sample = this.slots[(first + i) % this.capacity]!;
      if (sample.ts_unix >= from && sample.ts_unix <= to) out.push(sample);
    }
    return out;
  }

  /**
   * Samples with ts_unix > since, oldest first. Walks back from the newest and stops at the first
   * older one, so a poll for what is new costs the new samples, not the ring.
   */
  newerThan(since: number): Sample[] {
    const out: Sample[] = [];
    for (let age = 1; age <= this.count; age += 1) {
      const sample = this.slots[(this.next - age + this.capacity) % this.capacity]!;
      if (sample.ts_unix <= since) break;
      out.push(sample);
    }
    return out.reverse();
  }
}
