import { accessSync, constants } from 'node:fs';
import type { AgentConfig } from '../config/types';
import { silentLogger, type Logger } from '../log/logger';
import type { CollectorFactory, PortableFactory } from './collector';
import type { ConfigProblem } from '../config/errors';
import { nameIn, type Family } from './declaration';
import { HostFs } from '../procfs/host';
import { family as cpuFamily } from './cpu/declaration';
import { family as diskFamily } from './disk/declaration';
import { family as filesystemFamily } from './filesystem/declaration';
import { family as loadFamily } from './load/declaration';
import { family as memoryFamily } from './memory/declaration';
import { family as networkFamily } from './network/declaration';
import { family as pagingFamily } from './paging/declaration';
import { family as pressureFamily } from './pressure/declaration';
import { family as processFamily } from './process/declaration';
import { family as processesFamily } from './processes/declaration';
import { family as systemFamily } from './system/declaration';

/**
 * A metric family: its declaration, and its readers, each loaded only when it runs (the
 * portable ones bring in systeminformation). Adding a family is a folder with a declaration, a
 * procfs reader and, where there is a portable source, a portable reader; and a line here.
 */
export interface FamilyEntry {
  readonly family: Family;
  procfs(): CollectorFactory;
  portable?(): PortableFactory;
}

/** Every family, in the order they are registered. */
export const FAMILIES: readonly FamilyEntry[] = [
  { family: cpuFamily, procfs: () => (require('./cpu/procfs') as typeof import('./cpu/procfs')).factory, portable: () => (require('./cpu/portable') as typeof import('./cpu/portable')).factory },
  { family: diskFamily, procfs: () => (require('./disk/procfs') as typeof import('./disk/procfs')).factory },
  { family: filesystemFamily, procfs: () => (require('./filesystem/procfs') as typeof import('./filesystem/procfs')).factory, portable: () => (require('./filesystem/portable') as typeof import('./filesystem/portable')).factory },
  { family: loadFamily, procfs: () => (require('./load/procfs') as typeof import('./load/procfs')).factory, portable: () => (require('./load/portable') as typeof import('./load/portable')).factory },
  { family: memoryFamily, procfs: () => (require('./memory/procfs') as typeof import('./memory/procfs')).factory, portable: () => (require('./memory/portable') as typeof import('./memory/portable')).factory },
  { family: networkFamily, procfs: () => (require('./network/procfs') as typeof import('./network/procfs')).factory, portable: () => (require('./network/portable') as typeof import('./network/portable')).factory },
  { family: pagingFamily, procfs: () => (require('./paging/procfs') as typeof import('./paging/procfs')).factory, portable: () => (require('./paging/portable') as typeof import('./paging/portable')).factory },
  { family: pressureFamily, procfs: () => (require('./pressure/procfs') as typeof import('./pressure/procfs')).factory },
  { family: processFamily, procfs: () => (require('./process/procfs') as typeof import('./process/procfs')).factory },
  { family: processesFamily, procfs: () => (require('./processes/procfs') as typeof import('./processes/procfs')).factory, portable: () => (require('./processes/portable') as typeof import('./processes/portable')).factory },
  { family: systemFamily, procfs: () => (require('./system/procfs') as typeof import('./system/procfs')).factory, portable: () => (require('./system/portable') as typeof import('./system/portable')).factory },
];

/** Every procfs reader's factory (Linux, /proc and /sys under the host root); loads them all. */
export function allFactories(): CollectorFactory[] {
  return FAMILIES.map((entry) => entry.procfs());
}

/** Every portable reader's factory (systeminformation and Node's `os`); loads them all. */
export function portableFactories(): PortableFactory[] {
  return FAMILIES.flatMap((entry) => (entry.portable === undefined ? [] : [entry.portable()]));
}

/** Each name in `collectors.<section>.metrics` that no family of the section reports under the profile. */
export function metricSwitchProblems(config: AgentConfig): ConfigProblem[] {
  const profile = config.collectors.system.naming;
  const problems: ConfigProblem[] = [];
  for (const section of ['system', 'process'] as const) {
    const known = new Set(FAMILIES.filter((entry) => entry.family.section === section).flatMap((entry) => Object.values(entry.family.metrics).map((decl) => nameIn(profile, decl))));
    for (const [name, value] of Object.entries(config.collectors[section].metrics)) {
      if (!known.has(name)) problems.push({ path: `collectors.${section}.metrics.${name}`, value, message: `is not a metric of the ${section} collectors under naming ${profile} (docs/METRICS.md lists them)` });
    }
  }
  return problems;
}

export type ResolvedBackend = 'procfs' | 'systeminformation';

/** `auto` means procfs when the host's /proc/stat is readable under the host root. */
export function resolveBackend(config: AgentConfig): { backend: ResolvedBackend; reason: string } {
  const configured = config.collectors.system.backend;
  if (configured !== 'auto') return { backend: configured, reason: 'configured' };
  const stat = new HostFs(config.host_root).resolve('/proc/stat');
  try {
    accessSync(stat, constants.R_OK);
    return { backend: 'procfs', reason: `${stat} is readable` };
  } catch {
    return { backend: 'systeminformation', reason: `${stat} is not readable` };
  }
}

export interface FactorySelection {
  backend: ResolvedBackend;
  factories: CollectorFactory[];
  /** Enabled families the backend cannot serve here, with the reason. */
  skipped: Array<{ family: string; reason: string }>;
}

/**
 * The families that run under `config` on this platform, from the backend
 * `collectors.system.backend` selects. Logs the backend and, in one line, any enabled family
 * the portable backend has to skip.
 */
export function selectFactories(config: AgentConfig, logger: Logger, platform: NodeJS.Platform = process.platform): FactorySelection {
  const { backend, reason } = resolveBackend(config);
  const enabled = FAMILIES.filter((entry) => entry.family.enabled(config));
  if (backend === 'procfs') {
    logger.info({ event: 'collectors.backend', backend, reason }, `collector backend: procfs (${reason})`);
    return { backend, factories: enabled.map((entry) => entry.procfs()), skipped: [] };
  }
  const factories: CollectorFactory[] = [];
  const skipped: FactorySelection['skipped'] = [];
  for (const entry of enabled) {
    const portable = entry.portable?.();
    const why = portable === undefined ? 'no portable implementation' : portable.unsupported(platform);
    if (portable !== undefined && why === undefined) factories.push(portable);
    else skipped.push({ family: entry.family.name, reason: why ?? 'unsupported' });
  }
  logger.info({ event: 'collectors.backend', backend, reason, platform }, `collector backend: systeminformation (${reason})`);
  if (skipped.length > 0) {
    logger.warn(
      { event: 'collectors.skipped', backend, platform, skipped: Object.fromEntries(skipped.map((s) => [s.family, s.reason])) },
      `systeminformation backend cannot serve ${skipped.map((s) => s.family).join(', ')} on ${platform}; skipped`,
    );
  }
  return { backend, factories, skipped };
}

/** The families that run under `config` (backend-aware; see selectFactories). */
export function enabledFactories(config: AgentConfig, logger: Logger = silentLogger()): CollectorFactory[] {
  return selectFactories(config, logger).factories;
}
