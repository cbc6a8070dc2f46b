// Runs every benchmark suite (dist/test/bench/suites/*.js, or BENCH_SUITES_DIR's), prints a
// report and writes it as JSON to bench-results.json at the repository root (BENCH_RESULTS, a
// file, instead). `npm run bench -- FILTER` runs the suites whose file name contains FILTER. When
// the suites are done, or the run is interrupted, whatever they started and left running is
// stopped and the process exits: 1 when a suite failed, so a failed run never holds the machine.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';
import { stopLeftovers } from './leftovers';
import type { BenchSection } from './section';

interface SuiteModule {
  run?: () => Promise<BenchSection>;
}

interface SuiteOutcome {
  suite: string;
  section?: BenchSection;
  error?: string;
  wallMs: number;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

function renderSection(section: BenchSection): string {
  const lines = [`== ${section.title}`];
  const width = Math.max(0, ...section.figures.map((f) => f.name.length));
  for (const figure of section.figures) {
    const detail = figure.detail ? `  (${figure.detail})` : '';
    lines.push(`  ${figure.name.padEnd(width)}  ${formatValue(figure.value)} ${figure.unit}${detail}`);
  }
  for (const table of section.tables ?? []) {
    lines.push(`  -- ${table.title}`);
    const cells = [table.columns, ...table.rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatValue(cell) : cell)))];
    const widths = table.columns.map((_, i) => Math.max(...cells.map((row) => String(row[i] ?? '').length)));
    for (const row of cells) lines.push('    ' + row.map((cell, i) => String(cell ?? '').padEnd(widths[i])).join('  ').trimEnd());
  }
  for (const note of section.notes ?? []) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

/** Runs the suites; true when every one succeeded. */
async function main(): Promise<boolean> {
  const filter = process.argv.slice(2);
  const dir = process.env.BENCH_SUITES_DIR ?? join(__dirname, 'suites');
  const suites = (existsSync(dir) ? readdirSync(dir) : [])
    .filter((file) => file.endsWith('.js'))
    .filter((file) => filter.length === 0 || filter.some((part) => file.includes(part)))
    .sort();
  const machine = {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_mb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
  console.log(`tfo-agent bench: ${suites.length} suite(s) on ${machine.cpus} CPUs (${machine.cpu_model}), Node ${machine.node}\n`);
  const outcomes: SuiteOutcome[] = [];
  for (const suite of suites) {
    const started = performance.now();
    const mod = require(join(dir, suite)) as SuiteModule;
    if (typeof mod.run !== 'function') continue;
    try {
      const section = await mod.run();
      outcomes.push({ suite, section, wallMs: performance.now() - started });
      console.log(renderSection(section) + '\n');
    } catch (err) {
      // One broken suite must not hide the others' figures.
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      outcomes.push({ suite, error, wallMs: performance.now() - started });
      console.log(`== ${suite}: FAILED\n  ${error}\n`);
    }
  }
  const file = process.env.BENCH_RESULTS ?? join(REPO_ROOT, 'bench-results.json');
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine, suites: outcomes }, null, 2) + '\n');
  console.log(`results written to ${file}`);
  return outcomes.every((o) => o.error === undefined);
}

/** Stops what the suites left running, then exits with `code`. */
async function finish(code: number): Promise<never> {
  const leftovers = await stopLeftovers();
  if (leftovers.length > 0) console.log(`stopped what the suites left running: ${leftovers.map((l) => `${l.comm} (${l.pid})`).join(', ')}`);
  process.exit(code);
}

if (require.main === module) {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => void finish(code));
  }
  main().then(
    (ok) => finish(ok ? 0 : 1),
    (err: unknown) => {
      console.log(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return finish(1);
    },
  );
}
