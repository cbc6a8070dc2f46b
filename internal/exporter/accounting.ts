/**
 * Where every data point the agent produced went. The exporter and the buffer update it; the
 * self-metrics and `/health` read it. The identity that must hold at every moment:
 *
 *   produced = exportedLive + replayed + inBacklog + sum(dropped)
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

  /** Sets the backlog from storage (at start, when the buffer reopens an existing file). */
  setBacklog(points: number): void {
    this.inBacklog = points;
  }

  totalDropped(): number {
    let sum = 0;
    for (const n of this.dropped.values()) sum += n;
    return sum;
  }

  /** produced - (exportedLive + replayed + inBacklog + dropped); 0 when every point is accounted for. */
  unaccounted(): number {
    return this.produced - (this.exportedLive + this.replayed + this.inBacklog + this.totalDropped());
  }

  snapshot(): Record<string, unknown> {
    return {
      produced: this.produced,
      exported_live: this.exportedLive,
      spilled: this.spilled,
      replayed: this.replayed,
      in_backlog: this.inBacklog,
      dropped: Object.fromEntries(this.dropped),
    };
  }
}
