// V8 settings for a process that is small and runs for months, measured in docs/PERFORMANCE.md
// (map point 7 and "The whole process at a real cadence"). They are set from code, not only in
// NODE_OPTIONS, so that every way of starting the agent (npm start, npx, a global install, the
// image, the unit) runs with them, and so that the benchmark's cycle worker measures what ships.
import { setFlagsFromString } from 'node:v8';

export const LONG_RUN_V8_FLAGS = [
  // By default V8 lets garbage grow the old generation by at least 8 MB before the next full
  // collection: a steady agent sat at 1.8x its 10 MB live heap (RSS 61 MB after start, 67.5 MB
  // from the second minute on). This lowers the step to 2 MB; 5-10% more CPU per cycle.
  '--optimize-for-size',
  // Bytecode only: no Sparkplug, Maglev or TurboFan. A cycle runs each function a few times every
  // 1-15 s, so the optimizing compilers never finish warming up: TurboFan kept V8's helper thread
  // compiling 4.5 ms per cycle at 1 s and 6.7 ms at 15 s, more than its code saved on the main
  // thread (whole process 21 -> 15.6 ms per cycle at 15 s, 14 -> 12 ms at 1 s), and its code
  // and Sparkplug's second copy of warm code took 2-3 MB.
  '--max-opt=0',
];

/** `--no-foo_bar=1` → `foo-bar`: V8 accepts both spellings and the negation of a boolean. */
const flagName = (flag: string): string => flag.split('=')[0].replaceAll('_', '-').replace(/^--(no-)?/, '');

/** The long-run flags that the node command line does not set itself: a flag given there wins. */
export function longRunFlagsFor(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.filter((arg) => arg.startsWith('--')).map(flagName));
  return LONG_RUN_V8_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/** Call first thing in the process, before the agent's modules are compiled. */
export function tuneV8ForLongRun(): void {
  for (const flag of longRunFlagsFor(process.execArgv)) setFlagsFromString(flag);
}
