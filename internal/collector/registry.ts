import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '../config/types';
import type { CollectorFactory } from './collector';

/**
 * Every module in `families/` exports `factory: CollectorFactory`; adding a metric family is
 * adding one file there. The list is read once, sorted by name so the order is stable.
 */
function loadFactories(dir: string): CollectorFactory[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.js'))
    .sort()
    .map((file) => (require(join(dir, file)) as { factory?: CollectorFactory }).factory)
    .filter((factory): factory is CollectorFactory => factory !== undefined);
}

let cached: CollectorFactory[] | undefined;

export function allFactories(): CollectorFactory[] {
  cached ??= loadFactories(join(__dirname, 'families'));
  return cached;
}

/** The families that run under `config`. */
export function enabledFactories(config: AgentConfig): CollectorFactory[] {
  return allFactories().filter((factory) => factory.enabled(config));
}
