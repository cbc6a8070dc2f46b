/**
 * Where every data point the agent produced went. The exporter and the buffer update it; the
 * self-metrics and `/health` read it. The identity that must hold at every moment:
 *
 *   produced + restored = exportedLive + replayed + inBacklog + sum(dropped) + leftInBuffer
 *
 * `restored` is what an earlier run (or this one, before a reload) left in the buffer file and
 * the buffer found when it opened it; `leftInBuffer` is what was still in the file when the
 * buffer closed. In a process that never had a backlog across a close both are 0 and the
 * identity is the plain one.
 *
 * `inBacklog` is the buffer's current content (disk or memory fallback), so spilled points are
 * counted once while stored and again as replayed or dropped when they leave.
 */
export class ExportAccounting {
  produced = 0;
  exportedLive = 0;
  spilled = 0;
  replayed = 0;
  inBacklog = 0;
  restored = 0;
  leftInBuffer = 0;
  readonly dropped = new Map<string, number>();

  recordProduced(points: number): void {
    this.produced += points;
  }

  recordExportedLive(points: number): void {
    this.exportedLive += points;
  }

  /** Points accepted into the buffer. */
  recordSpilled(points: number): void {
    this.spilled += points;
    this.inBacklog += points;
  }

  /** Points delivered from the buffer and removed from it. */
  recordReplayed(points: number): void {
    this.replayed += points;
    this.inBacklog -= points;
  }

  /**
   * Points lost, by reason (`rejected`, `evicted_size`, `evicted_age`, `memory_full`, …).
   * `fromBacklog` says whether they had been counted as in the backlog.
   */
  recordDropped(reason: string, points: number, fromBacklog = false): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + points);
    if (fromBacklog) this.inBacklog -= points;
  }

  /** Points found in the buffer file at start, left there by an earlier run. */
  recordRestored(points: number): void {
    this.restored += points;
    this.inBacklog += points;
  }

  /** Points still in the buffer file when the buffer closed (the next open restores them). */
  recordLeftInBuffer(points: number): void {
    this.leftInBuffer += points;
    this.inBacklog -= points;
  }

  totalDropped(): number {
    let sum = 0;
    for (const n of this.dropped.values()) sum += n;
    return sum;
  }

  /** Left side minus right side of the identity; 0 when every point is accounted for. */
  unaccounted(): number {
    return this.produced + this.restored - (this.exportedLive + this.replayed + this.inBacklog + this.totalDropped() + this.leftInBuffer);
  }

  snapshot(): Record<string, unknown> {
    return {
      produced: this.produced,
      exported_live: this.exportedLive,
      spilled: this.spilled,
      replayed: this.replayed,
      in_backlog: this.inBacklog,
      restored: this.restored,
      left_in_buffer: this.leftInBuffer,
      dropped: Object.fromEntries(this.dropped),
    };
  }
}
