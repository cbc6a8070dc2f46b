// A SIGHUP: the configuration read again and, when it changed, the running pipeline replaced by
// one built from it, or rebuilt from the previous one when the new one cannot start.
import { ConfigError, formatWarning, type ConfigWarning } from '../config/errors';
import type { LoadedConfig, LoadOptions } from '../config/load';
import type { AgentConfig } from '../config/types';
import { errorMessage, type Logger } from '../log/logger';
import { changedSections } from './config-diff';

/** `fatal`: neither the new nor the previous configuration could start; the agent has stopped. */
export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected' | 'failed' | 'fatal';

export function logConfigWarnings(logger: Logger, warnings: ConfigWarning[]): void {
  for (const warning of warnings) logger.warn({ event: 'config.warning', path: warning.path }, formatWarning(warning));
}

/** The configuration read again with what changed, or why nothing is to be done (logged). */
export function readChangedConfig(loadOptions: LoadOptions, running: AgentConfig, logger: Logger): { next: LoadedConfig; changed: string[] } | 'rejected' | 'unchanged' {
  let next: LoadedConfig;
  try {
    // Required here, not at the top: the CLI drops the loader from the module cache once the agent runs.
    const { loadConfig } = require('../config/load') as typeof import('../config/load');
    next = loadConfig(loadOptions);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems.map((p) => ({ path: p.path, message: p.message })) : undefined;
    logger.error(
      { event: 'config.reload_rejected', problems, err: problems ? undefined : errorMessage(err) },
      `config reload rejected, keeping the running configuration: ${errorMessage(err)}`,
    );
    return 'rejected';
  }
  logConfigWarnings(logger, next.warnings);
  const changed = changedSections(running, next.config);
  if (changed.length === 0) {
    logger.info({ event: 'config.reload_unchanged' }, 'config reloaded: nothing changed');
    return 'unchanged';
  }
  return { next, changed };
}

/** Neither configuration could start a pipeline: the agent has none left and must end. */
export class PipelineRestoreError extends Error {
  constructor(
    readonly startError: unknown,
    readonly restoreError: unknown,
  ) {
    super(`the new configuration failed to start (${errorMessage(startError)}) and the previous one failed to start again (${errorMessage(restoreError)})`);
    this.name = 'PipelineRestoreError';
  }
}

export interface Replacement<P> {
  /** Stops the running pipeline; it holds the buffer file and the collectors the next one needs. */
  stopRunning: () => Promise<void>;
  start: (config: AgentConfig) => Promise<P>;
  next: AgentConfig;
  previous: AgentConfig;
  logger: Logger;
}

/**
 * Stops the running pipeline and starts one on `next`. When that fails, one on `previous` is
 * started again, so that the agent collects and exports as before the reload (`applied: false`);
 * when that fails too, rejects with PipelineRestoreError.
 */
export async function replacePipeline<P>({ stopRunning, start, next, previous, logger }: Replacement<P>): Promise<{ pipeline: P; applied: boolean }> {
  await stopRunning();
  try {
    return { pipeline: await start(next), applied: true };
  } catch (startError) {
    logger.error({ event: 'config.reload_failed', err: errorMessage(startError) }, `new configuration failed to start, back to the previous one: ${errorMessage(startError)}`);
    try {
      return { pipeline: await start(previous), applied: false };
    } catch (restoreError) {
      throw new PipelineRestoreError(startError, restoreError);
    }
  }
}
