import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { registerCollector, type CollectionResult } from '../collector/collector';
import { HostFs, systemClock, type Clock } from '../procfs/host';
import { DirectProducer } from '../collector/direct';
import { enabledFactories } from '../collector/registry';
import { exportObservedOnly, ObservedSeries } from '../collector/series';
import { ConfigError, formatWarning, type ConfigWarning } from '../config/errors';
import type { LoadedConfig, LoadOptions } from '../config/load';
import type { AgentConfig } from '../config/types';
import type { LocalApi } from '../api/local-api';
import { LatestExport } from '../api/prometheus';
import { BufferRuntime } from '../buffer/runtime';
import { ExportAccounting } from '../exporter/accounting';
import { createMetricExporter } from '../exporter/metric-exporter';
import { stoppableTransport } from '../exporter/stoppable-transport';
import { createTransport } from '../exporter/transport';
import { HealthStatus, startHealthServer, type HealthServer } from '../health/server';
import { startHeartbeat } from '../heartbeat/start';
import { errorMessage, type Logger } from '../log/logger';
import { FailureStreak } from '../log/streak';
import { VERSION } from '../version/version';
import { changedSections } from './config-diff';
import { resolveAgentId } from './identity';
import { registerSelfMetrics } from './self-metrics';
import { buildResource, readHostFacts, resourceAttributes } from './resource';

/**
 * The first export comes this long after start rather than a full interval later: long enough
 * for a second CPU snapshot, so that the first export already carries utilization.
 */
const FIRST_EXPORT_DELAY_MS = 1_000;
// The share of agent.shutdown_timeout the last sends may take; the rest spills and closes.
const SEND_SHARE_OF_SHUTDOWN = 0.8;

/** What a pipeline needs from the agent that outlives it across reloads. */
interface PipelineDeps {
  logger: Logger;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  health: HealthStatus;
  accounting: ExportAccounting;
  /** Each exported batch, for the local API's /metrics. */
  latestExport: LatestExport;
}

/**
 * Everything built from one configuration, in data-flow order: identity, resource, transport,
 * exporter, MeterProvider with its periodic reader, collectors. A reload stops one pipeline and
 * starts another; `stop` undoes `start` in reverse, final export included.
 */
export class Pipeline {
  /** How to undo each step taken so far; `stop` runs them last first. */
  private readonly undo: Array<() => void | Promise<void>> = [];
  private readonly unregister: Array<() => void> = [];
  private firstExport: NodeJS.Timeout | undefined;

  private constructor(
    readonly config: AgentConfig,
    readonly agentId: string,
    private readonly deps: PipelineDeps,
  ) {}

  static async start(config: AgentConfig, deps: PipelineDeps): Promise<Pipeline> {
    const { logger, env, health } = deps;
    const host = new HostFs(config.host_root);

    const identity = resolveAgentId(config, host, logger);
    const pipeline = new Pipeline(config, identity.id, deps);
    health.agentId = identity.id;
    logger.info({ event: 'agent.identity', agent_id: identity.id, source: identity.source }, `agent id ${identity.id} (from ${identity.source})`);

    try {
      const resource = buildResource(resourceAttributes(config, identity.id, await readHostFacts(host), env));
      if (config.exporter.otlp.enabled) {
        await pipeline.startMetrics(host, resource);
      } else {
        logger.warn({ event: 'export.disabled' }, 'exporter.otlp.enabled is false: no metrics are collected or exported');
      }
      pipeline.startHeartbeat(host);
    } catch (err) {
      // Whatever was already built is released before the caller learns of the failure.
      await pipeline.stop();
      throw err;
    }
    return pipeline;
  }

  /** Transport, exporter, MeterProvider with its periodic reader, collectors; the first export. */
  private async startMetrics(host: HostFs, resource: Resource): Promise<void> {
    const { logger, health, accounting } = this.deps;
    const config = this.config;
    const interval = config.collectors.system.interval;
    // One send never outlasts most of the interval, so two exports never overlap, and the
    // reader waits the whole interval: a send that times out still has time to spill.
    const timeoutMs = Math.min(config.telemetryflow.timeout, Math.floor(interval * 0.8));
    const transport = stoppableTransport(createTransport(config, this.agentId));
    // The buffer opens before the exporter so that the first failed cycle can already spill.
    const spill = config.buffer.enabled ? BufferRuntime.start(config, transport, accounting, logger) : undefined;
    if (spill) {
      health.addProvider('buffer', () => spill.status());
      // Undone after the provider's shutdown (last step first): the final export can still spill.
      this.onStop(async () => {
        health.removeProvider('buffer');
        await spill.stop();
      });
    }
    const exporter = createMetricExporter({ transport: spill?.liveTransport ?? transport, accounting, logger, timeoutMs, spill: spill?.buffer });
    health.setExportSource(() => exporter.lastResult());

    const series = new ObservedSeries();
    const direct = new DirectProducer();
    const reader = new PeriodicExportingMetricReader({
      exporter: exportObservedOnly(exporter, series, (metrics) => this.deps.latestExport.record(metrics)), exportIntervalMillis: interval, exportTimeoutMillis: interval, metricProducers: [direct],
    });
    const provider = new MeterProvider({ resource, readers: [reader] });
    this.unregister.push(registerSelfMetrics(provider.getMeter('tfo-agent', VERSION), { accounting, backlog: spill ? () => spill.buffer.stats() : undefined }));
    this.onStop(async () => {
      clearTimeout(this.firstExport);
      transport.stopWithin(Math.floor(config.agent.shutdown_timeout * SEND_SHARE_OF_SHUTDOWN));
      // The reader's shutdown runs one final collection and export, then shuts the exporter (and
      // its transport) down; only then do the collectors go.
      await provider.shutdown();
      for (const unregister of this.unregister.splice(0)) unregister();
    });
    logger.info(
      { event: 'export.configured', protocol: transport.protocol, target: transport.target, interval_ms: interval },
      `exporting to ${transport.target} over ${transport.protocol} every ${interval} ms`,
    );

    this.startCollectors(provider, host, series, direct);
    // A collection now gives every collector its first snapshot (and /ready its answer); the
    // forced flush a moment later is the first export.
    await reader.collect();
    if (interval > 2 * FIRST_EXPORT_DELAY_MS) {
      this.firstExport = setTimeout(() => void provider.forceFlush(), FIRST_EXPORT_DELAY_MS);
    }
  }

  private startCollectors(provider: MeterProvider, host: HostFs, series: ObservedSeries, direct: DirectProducer): void {
    const { logger, clock, health } = this.deps;
    const naming = this.config.collectors.system.naming;
    const meter = provider.getMeter('tfo-agent', VERSION);
    const names: string[] = [];
    for (const factory of enabledFactories(this.config, logger)) {
      try {
        const collector = factory.create({ host, clock, config: this.config, naming, logger: logger.child({ collector: factory.name }) });
        const streak = new FailureStreak(logger, `collector.${factory.name}`);
        const onResult = (result: CollectionResult): void => {
          health.recordCollection(result);
          if (result.ok) streak.success();
          else streak.failure(result.error ?? 'failed', { collector: result.collector });
          const { error: err, ...measured } = result;
          logger.debug({ event: 'collection', ...measured, err }, 'collection');
        };
        this.unregister.push(registerCollector(meter, collector, naming, clock, onResult, series, direct));
        names.push(factory.name);
      } catch (err) {
        // One family that cannot start must not take the others down with it.
        logger.error({ event: 'collector.start_failed', collector: factory.name, err: errorMessage(err) }, `collector ${factory.name} not started`);
      }
    }
    logger.info({ event: 'collectors.started', collectors: names, naming }, `collecting ${names.join(', ') || 'nothing'}`);
  }

  /** The heartbeat to the TelemetryFlow API: its own loop beside the OTLP pipeline. */
  private startHeartbeat(host: HostFs): void {
    const { logger, clock, env, health } = this.deps;
    const heartbeat = startHeartbeat({ config: this.config, agentId: this.agentId, logger, host, clock, env });
    health.addProvider('heartbeat', () => heartbeat.status());
    this.onStop(async () => {
      health.removeProvider('heartbeat');
      await heartbeat.stop();
    });
  }

  /** Registers the undo of a step just taken (close a buffer, stop a heartbeat). */
  onStop(step: () => void | Promise<void>): void {
    this.undo.push(step);
  }

  /** Stops collecting, exports one last time, and releases everything, last step first. */
  async stop(): Promise<void> {
    for (const step of this.undo.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        this.deps.logger.error({ event: 'pipeline.stop_step_failed', err: errorMessage(err) }, `while stopping: ${errorMessage(err)}`);
      }
    }
    this.deps.health.resetCollections();
  }
}

export function logConfigWarnings(logger: Logger, warnings: ConfigWarning[]): void {
  for (const warning of warnings) logger.warn({ event: 'config.warning', path: warning.path }, formatWarning(warning));
}

export interface AgentOptions {
  loaded: LoadedConfig;
  /** How the config was loaded, so that SIGHUP reloads the same file with the same flags. */
  loadOptions: LoadOptions;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
}

export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected' | 'failed';

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
    this.pipeline = await Pipeline.start(this.config, this.deps());
    // The SDK's timers are unref'd; this one keeps the process alive until stop().
    this.keepAlive = setInterval(() => undefined, 1 << 30);
    this.logger.info({ event: 'agent.started', agent_id: this.pipeline.agentId }, 'agent started');
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
    this.api = await LocalApi.start(this.config, { logger: this.logger, clock: this.clock, env: this.env, health: this.health, latestExport: this.latestExport });
  }

  /** Re-reads the config file; an invalid one is logged and the running pipeline kept. */
  reload(): Promise<ReloadOutcome> {
    return this.serialize(() => this.reloadNow());
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    if (this.pipeline === undefined) return 'failed';
    // Certificates are rotated in place: re-read whatever the file says.
    this.api?.reloadTls();
    let next: LoadedConfig;
    try {
      // Required here, not at the top: the CLI drops the loader from the module cache once the agent runs.
      const { loadConfig } = require('../config/load') as typeof import('../config/load');
      next = loadConfig(this.options.loadOptions);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.map((p) => ({ path: p.path, message: p.message })) : undefined;
      this.logger.error(
        { event: 'config.reload_rejected', problems, err: problems ? undefined : errorMessage(err) },
        `config reload rejected, keeping the running configuration: ${errorMessage(err)}`,
      );
      return 'rejected';
    }
    logConfigWarnings(this.logger, next.warnings);
    const changed = changedSections(this.config, next.config);
    if (changed.length === 0) {
      this.logger.info({ event: 'config.reload_unchanged' }, 'config reloaded: nothing changed');
      return 'unchanged';
    }
    this.logger.info({ event: 'config.reloading', changed }, `config changed (${changed.join(', ')}): rebuilding the pipeline`);
    const previous = this.config;
    const leftBefore = this.accounting.leftInBuffer;
    await this.pipeline.stop();
    this.pipeline = undefined;
    const leftBehind = this.accounting.leftInBuffer - leftBefore;
    try {
      this.pipeline = await Pipeline.start(next.config, this.deps());
      this.config = next.config;
      if (leftBehind > 0 && (!next.config.buffer.enabled || next.config.buffer.path !== previous.buffer.path)) {
        // The new pipeline does not open the old file: nothing would replay it, and nobody would know.
        this.logger.warn(
          { event: 'buffer.left_behind', path: previous.buffer.path, points: leftBehind },
          `${leftBehind} points stay in ${previous.buffer.path}, which the new configuration does not use; replay them with tfo-agent buffer drain, or move the file (docs/BUFFER.md)`,
        );
      }
    } catch (err) {
      this.logger.error({ event: 'config.reload_failed', err: errorMessage(err) }, `new configuration failed to start, back to the previous one: ${errorMessage(err)}`);
      this.pipeline = await Pipeline.start(previous, this.deps());
      return 'failed';
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
