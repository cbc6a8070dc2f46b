import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '../config/types';
import { silentLogger, type Logger } from '../log/logger';
import type { CollectorFactory } from './collector';
import { HostFs } from '../procfs/host';

/** A portable (systeminformation) family: it may be unable to serve some platforms. */
export interface PortableFactory extends CollectorFactory {
  /**
   * Why the family cannot run on `platform`, or undefined when it can. A family whose only
   * source there would spawn a process every cycle says so, rather than cost a fork per cycle.
   */
  unsupported(platform: NodeJS.Platform): string | undefined;
}

/**
 * Every module in a family directory exports `factory`; adding a metric family is adding one
 * file to `families/` (and its portable twin to `portable/`). The list is read once, sorted by
 * name so the order is stable.
 */
function loadFactories<F extends CollectorFactory>(dir: string): F[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.js'))
    .sort()
    .map((file) => (require(join(dir, file)) as { factory?: F }).factory)
    .filter((factory): factory is F => factory !== undefined);
}

let procfsCache: CollectorFactory[] | undefined;
let portableCache: PortableFactory[] | undefined;

/** The procfs families (Linux, /proc and /sys under the host root). */
export function allFactories(): CollectorFactory[] {
  procfsCache ??= loadFactories(join(__dirname, 'families'));
  return procfsCache;
}

/** The portable families, read through systeminformation and Node's `os`. */
export function portableFactories(): PortableFactory[] {
  portableCache ??= loadFactories<PortableFactory>(join(__dirname, 'portable'));
  return portableCache;
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
  const enabled = allFactories().filter((factory) => factory.enabled(config));
  if (backend === 'procfs') {
    logger.info({ event: 'collectors.backend', backend, reason }, `collector backend: procfs (${reason})`);
    return { backend, factories: enabled, skipped: [] };
  }
  const portable = new Map(portableFactories().map((factory) => [factory.name, factory]));
  const factories: CollectorFactory[] = [];
  const skipped: FactorySelection['skipped'] = [];
  // The procfs list names the families; the portable backend serves the same ones where it can.
  for (const family of enabled) {
    const twin = portable.get(family.name);
    const why = twin === undefined ? 'no portable implementation' : twin.unsupported(platform);
    if (twin !== undefined && why === undefined) factories.push(twin);
    else skipped.push({ family: family.name, reason: why ?? 'unsupported' });
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
