import type { BatchObservableResult } from '@opentelemetry/api';
import type { NamingProfile } from '../../config/types';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import { int } from '../declaration';
import type { MetricSink } from '../naming';
import { family, metrics } from './declaration';
import { ProcessStateReader } from '../../procfs/process-states';
import { readStat } from '../../procfs/stat';
import { readTaskLimit } from '../../procfs/task-limit';

// Every state is reported each cycle, zero included, so a series never vanishes and reappears.
const STATE = metrics.count.attributes['process.state'];
const STATES: Record<NamingProfile, readonly string[]> = { semconv: STATE.values, hostmetrics: STATE.hostmetricsValues };

/**
 * The state name of a kernel state letter (proc(5)) in a profile. semconv knows four states:
 * uninterruptible (D) and idle kernel threads (I) are sleeping. The Collector's vocabulary keeps
 * blocked, idle and paging apart, and says zombies.
 */
export function processStateName(code: string, profile: NamingProfile): string {
  if (profile === 'semconv') {
    if (code === 'R') return 'running';
    if (code === 'T' || code === 't') return 'stopped';
    if (code === 'Z' || code === 'X' || code === 'x') return 'defunct';
    return 'sleeping';
  }
  const names: Record<string, string> = { R: 'running', S: 'sleeping', D: 'blocked', T: 'stopped', t: 'stopped', Z: 'zombies', I: 'idle', W: 'paging' };
  return names[code] ?? 'unknown';
}

/** Counts by state name under `profile`, every state of the profile present. */
export function processStateCounts(byCode: Map<string, number>, profile: NamingProfile): Map<string, number> {
  const counts = new Map(STATES[profile].map((state) => [state, 0]));
  for (const [code, n] of byCode) {
    const state = processStateName(code, profile);
    counts.set(state, (counts.get(state) ?? 0) + n);
  }
  return counts;
}

class ProcessesCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;

  private readonly states: ProcessStateReader;

  constructor(private readonly ctx: FamilyContext<undefined>) {
    this.states = new ProcessStateReader(ctx.host);
  }

  close(): void {
    this.states.close();
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    const [stat, states] = await Promise.all([readStat(this.ctx.host), this.states.read()]);
    const counts = processStateCounts(states.counts, this.ctx.naming);
    if (this.ctx.naming === 'hostmetrics') {
      // As the Collector does on Linux: running and blocked from /proc/stat, one consistent
      // kernel snapshot (runnable and I/O-blocked threads), rather than from the racy scan.
      if (stat.procsRunning !== undefined) counts.set('running', stat.procsRunning);
      if (stat.procsBlocked !== undefined) counts.set('blocked', stat.procsBlocked);
    }
    for (const [state, n] of counts) out.observe(result, 'count', int(n), { 'process.state': state });
    out.observe(result, 'created', int(stat.processesCreated));
    if (out.has('limit')) {
      const limit = readTaskLimit(this.ctx.host);
      if (limit !== undefined) out.observe(result, 'limit', int(limit));
    }
  }
}

export const factory = collectorFactory(family, (ctx) => new ProcessesCollector(ctx));
