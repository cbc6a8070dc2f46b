import assert from 'node:assert/strict';
import type { Attributes } from '@opentelemetry/api';
import type { CollectorFactory } from '../../internal/collector/collector';
import { Collection, startCollecting, type CollectOptions } from '../support/collect';

/** Opt-in metrics the agreement tests compare with their references too. */
const COMPARED_OPT_IN = { 'system.memory.limit': true, 'system.filesystem.limit': true, 'system.cpu.utilization': true };

/**
 * One collection of several families at the same moment (their sessions collected
 * concurrently), merged into one Collection.
 */
export async function collectFamilies(factories: CollectorFactory[], options: CollectOptions = {}): Promise<Collection> {
  const sessions = factories.map((factory) => startCollecting(factory, { ...options, config: { ...options.config, collectors: { ...options.config?.collectors, system: { ...options.config?.collectors?.system, metrics: COMPARED_OPT_IN } } } }));
  try {
    // A first collection gives stateful collectors (cpu utilization) their baseline.
    const collections = await Promise.all(sessions.map((s) => s.collect()));
    const metrics = new Map(collections.flatMap((c) => [...c.metrics]));
    return new Collection(metrics, collections.flatMap((c) => c.results));
  } finally {
    await Promise.all(sessions.map((s) => s.shutdown()));
  }
}

/** Sum of the values of `name` whose attributes include `match` (0 points: undefined). */
export function total(collection: Collection, name: string, match: Attributes = {}): number | undefined {
  if (!collection.has(name)) return undefined;
  const points = collection.points(name, match);
  return points.length === 0 ? undefined : points.reduce((sum, p) => sum + p.value, 0);
}

/**
 * A value read between two readings of the reference must lie between them: for a counter,
 * `before <= ours <= after` holds exactly whatever the interval; for a gauge it bounds how far it
 * moved. `slack` covers only rounding and what is stated at the call.
 */
export function assertBracketed(what: string, ours: number | undefined, before: number | undefined, after: number | undefined, slack = 0): void {
  assert.ok(ours !== undefined, `${what}: not reported by the agent`);
  assert.ok(before !== undefined && after !== undefined, `${what}: not in the reference`);
  const lo = Math.min(before, after) - slack;
  const hi = Math.max(before, after) + slack;
  assert.ok(ours >= lo && ours <= hi, `${what}: ours ${ours}, reference ${before} .. ${after} (slack ${slack})`);
}

/** |ours - theirs| <= tolerance, with both numbers in the message. */
export function assertNear(what: string, ours: number | undefined, theirs: number | undefined, tolerance: number): void {
  assert.ok(ours !== undefined, `${what}: not reported by ours`);
  assert.ok(theirs !== undefined, `${what}: not reported by the reference`);
  assert.ok(Math.abs(ours - theirs) <= tolerance, `${what}: ${ours} vs ${theirs}, tolerance ${tolerance}`);
}
