// The running agent: the probe listener, the local API and one pipeline (pipeline.ts) at a
// time; SIGHUP replaces the pipeline (reload.ts).
import type { LoadedConfig, LoadOptions } from '../config/load';
import type { AgentConfig } from '../config/types';
import type { LocalApi } from '../api/local-api';
import { LatestExport } from '../api/prometheus';
import { ExportAccounting } from '../exporter/accounting';
import { rereadTlsFiles } from '../exporter/tls';
import { HealthStatus, startHealthServer, type HealthServer } from '../health/server';
import { errorMessage, type Logger } from '../log/logger';
import { systemClock, type Clock } from '../procfs/host';
import { VERSION } from '../version/version';
import { exposedGc } from './heap-trim';
import { Pipeline, type PipelineDeps } from './pipeline';
import { logConfigWarnings, readChangedConfig, replacePipeline, type ReloadOutcome } from './reload';

export type { ReloadOutcome } from './reload';

export interface AgentOptions {
  loaded: LoadedConfig;
  /** How the config was loaded, so that SIGHUP reloads the same file with the same flags. */
  loadOptions: LoadOptions;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /**
   * Called once the agent has stopped because no pipeline could be started after a failed
   * reload; the process should end with an error. The CLI exits 1.
   */
  onFatal?: (err: Error) => void;
  /** Builds a pipeline; Pipeline.start unless a test needs one that fails. */
  startPipeline?: (config: AgentConfig, deps: PipelineDeps) => Promise<Pipeline>;
}

/**
 * The running agent: the probe listener and the current pipeline. Reloads and the stop are
 * serialized, so a SIGHUP during a SIGTERM cannot start a pipeline that nobody stops.
 */
export class Agent {
  readonly health: HealthStatus;
  readonly accounting = new ExportAccounting();
  private readonly latestExport = new LatestExport();
  private config: AgentConfig;
  private pipeline: Pipeline | undefined;
  private healthServer: HealthServer | undefined;
  private api: LocalApi | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private waitingReload: Promise<ReloadOutcome> | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: AgentOptions) {
    this.config = options.loaded.config;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.env = options.env ?? process.env;
    this.health = new HealthStatus(this.clock, '', VERSION);
  }

  /** The configuration the agent runs on now (the reloaded one after a SIGHUP). */
  get currentConfig(): AgentConfig {
    return this.config;
  }

  /** The probe listener's bound address, when it is on. */
  get healthAddress(): string | undefined {
    return this.healthServer?.address;
  }

  /** The local query API's base URL, when it is on. */
  get apiUrl(): string | undefined {
    return this.api?.url;
  }

  /** Builds the pipeline and the probe listener; a reload or stop asked meanwhile waits for it. */
  start(): Promise<void> {
    return this.serialize(() => this.startNow());
  }

  private async startNow(): Promise<void> {
    const { loaded } = this.options;
    this.logger.info(
      { event: 'agent.starting', version: VERSION, config_file: loaded.file ?? null, node: process.versions.node },
      `tfo-agent ${VERSION} starting`,
    );
    logConfigWarnings(this.logger, loaded.warnings);
    // The probe port first: an agent that cannot have it (another one holds it) must fail before
    // it collects, exports or touches the buffer.
    await this.startHealth();
    await this.startApi();
    this.pipeline = await this.startPipeline(this.config);
    // The SDK's timers are unref'd; this one keeps the process alive until stop().
    this.keepAlive = setInterval(() => undefined, 1 << 30);
    this.logger.info({ event: 'agent.started', agent_id: this.pipeline.agentId }, 'agent started');
  }

  private startPipeline(config: AgentConfig): Promise<Pipeline> {
    return (this.options.startPipeline ?? Pipeline.start)(config, this.deps());
  }

  private deps(): PipelineDeps {
    return { logger: this.logger, clock: this.clock, env: this.env, health: this.health, accounting: this.accounting, latestExport: this.latestExport };
  }

  private async startHealth(): Promise<void> {
    if (!this.config.health.enabled) return;
    this.healthServer = await startHealthServer(this.config.health.address, this.health, this.logger);
  }

  private async startApi(): Promise<void> {
    if (!this.config.api.enabled) return;
    // Loaded only when on: api.enabled false costs nothing.
    const { LocalApi } = require('../api/local-api') as typeof import('../api/local-api');
    this.api = await LocalApi.start(this.config, {
      logger: this.logger, clock: this.clock, env: this.env, health: this.health, latestExport: this.latestExport,
      accounting: this.accounting, exportTarget: () => this.pipeline?.exportTarget, collectGarbage: exposedGc(),
    });
  }

  /**
   * Re-reads the config file; an invalid one is logged and the running pipeline kept. A reload
   * asked for while another waits to run joins it, so a storm of SIGHUPs reads the file at most
   * twice (the one running, and one after it that sees the latest file), not once per signal.
   */
  reload(): Promise<ReloadOutcome> {
    this.waitingReload ??= this.serialize(() => {
      this.waitingReload = undefined;
      return this.reloadNow();
    });
    return this.waitingReload;
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    const running = this.pipeline;
    if (running === undefined) return 'failed';
    // Certificates are rotated in place: re-read whatever the file says.
    this.api?.reloadTls();
    rereadTlsFiles();
    const read = readChangedConfig(this.options.loadOptions, this.config, this.logger);
    if (typeof read === 'string') return read;
    const { next, changed } = read;
    this.logger.info({ event: 'config.reloading', changed }, `config changed (${changed.join(', ')}): rebuilding the pipeline`);
    const previous = this.config;
    let leftBehind = 0;
    const stopRunning = async (): Promise<void> => {
      const leftBefore = this.accounting.leftInBuffer;
      this.pipeline = undefined;
      await running.stop();
      leftBehind = this.accounting.leftInBuffer - leftBefore;
    };
    let replaced: { pipeline: Pipeline; applied: boolean };
    try {
      replaced = await replacePipeline({ stopRunning, start: (config) => this.startPipeline(config), next: next.config, previous, logger: this.logger });
    } catch (err) {
      await this.endWithoutPipeline(err instanceof Error ? err : new Error(String(err)));
      return 'fatal';
    }
    this.pipeline = replaced.pipeline;
    if (!replaced.applied) return 'failed';
    this.config = next.config;
    if (leftBehind > 0 && (!next.config.buffer.enabled || next.config.buffer.path !== previous.buffer.path)) {
      // The new pipeline does not open the old file: nothing would replay it, and nobody would know.
      this.logger.warn(
        { event: 'buffer.left_behind', path: previous.buffer.path, points: leftBehind },
        `${leftBehind} points stay in ${previous.buffer.path}, which the new configuration does not use; replay them with tfo-agent buffer drain, or move the file (docs/BUFFER.md)`,
      );
    }
    this.logger.level = next.config.logging.level;
    if (changed.includes('logging.format') || changed.includes('logging.file')) {
      this.logger.warn({ event: 'config.restart_needed', keys: ['logging.format', 'logging.file'] }, 'logging.format and logging.file take effect at the next start');
    }
    if (changed.some((key) => key.startsWith('health.'))) {
      await this.reopen('health', 'health endpoint', () => this.closeHealth(), () => this.startHealth());
    }
    if (changed.some((key) => key.startsWith('api.') || key === 'agent.hostname' || key === 'host_root')) {
      await this.reopen('api', 'local API', () => this.closeApi(), () => this.startApi());
    }
    this.logger.info({ event: 'config.reloaded', changed }, 'config reloaded');
    return 'applied';
  }

  /**
   * No pipeline could be started after a failed reload: one line says why, the listeners close
   * (a probe must not report a live agent that collects nothing) and onFatal ends the process.
   */
  private async endWithoutPipeline(err: Error): Promise<void> {
    this.logger.fatal({ event: 'agent.reload_restore_failed', err: err.message }, `${err.message}; stopping`);
    await this.closeHealth();
    await this.closeApi();
    clearInterval(this.keepAlive);
    this.options.onFatal?.(err);
  }

  /** Closes a listener whose section changed and opens it again; a failure is logged, the agent runs on. */
  private async reopen(name: string, what: string, close: () => Promise<void>, open: () => Promise<void>): Promise<void> {
    await close();
    try {
      await open();
    } catch (err) {
      this.logger.error({ event: `${name}.restart_failed`, err: errorMessage(err) }, `${what} not restarted: ${errorMessage(err)}`);
    }
  }

  private async closeHealth(): Promise<void> {
    await this.healthServer?.close();
    this.healthServer = undefined;
  }

  private async closeApi(): Promise<void> {
    await this.api?.stop();
    this.api = undefined;
  }

  /** Stops collecting, flushes one last export and closes the listener. */
  stop(): Promise<void> {
    return this.serialize(async () => {
      await this.pipeline?.stop();
      this.pipeline = undefined;
      await this.closeHealth();
      await this.closeApi();
      clearInterval(this.keepAlive);
      this.logger.info({ event: 'agent.stopped', accounting: this.accounting.snapshot() }, 'agent stopped');
    });
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
