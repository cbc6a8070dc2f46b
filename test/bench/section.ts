/**
 * What a benchmark suite returns. Every module in test/bench/suites/ exports
 * `run(): Promise<BenchSection>`; the harness (run.ts) prints the sections and writes them to
 * bench-results.json. Benchmarks only measure and print: they never pass or fail on a figure.
 */
export interface BenchFigure {
  /** What was measured, e.g. "CPU per cycle (median)". */
  name: string;
  value: number;
  /** ms, MB, series, x (a ratio), ops/s, … */
  unit: string;
  /** Context a reader needs to trust the figure (sample count, peer, goal). */
  detail?: string;
}

export interface BenchSection {
  /** Heading of the section in the report. */
  title: string;
  figures: BenchFigure[];
  /** Free-form lines printed under the figures: skipped peers, method, caveats. */
  notes?: string[];
  /** Named tables, e.g. a CPU profile's top functions. Each row is a list of cells. */
  tables?: Array<{ title: string; columns: string[]; rows: Array<Array<string | number>> }>;
}
