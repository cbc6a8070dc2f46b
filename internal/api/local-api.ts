// The local query API as the agent runs it: the sampler feeding the ring and the daily CSV files,
// and the listener answering from them. Built from the api: section; stopped and rebuilt when a
// reload changes that section.
import type { AgentConfig } from '../config/types';
import type { ExportAccounting } from '../exporter/accounting';
import type { HealthStatus } from '../health/server';
import type { ListenerLimits } from '../health/listener-limits';
import type { Logger } from '../log/logger';
import { HostFs, type Clock } from '../procfs/host';
import { hostName } from '../agent/resource';
import { KeptFilesHostFs } from '../procfs/kept-files';
import type { ApiContext } from './context';
import { CsvHistory } from './csv-history';
import { readInventory, type Inventory } from './inventory';
import type { LatestExport } from './prometheus';
import { SampleRing } from './ring';
import { apiRoutes } from './routes';
import { Sampler } from './sampler';
import { API_LIMITS, startApiServer, type ApiServer } from './server';
import { statusBody, statusVersion, type ExportTargetView } from './status';
import { LIVE_FEED_LIMITS, LiveFeed } from './status-stream';

export interface LocalApiDeps {
  logger: Logger;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  /** The probe listener's status: the API adds its section (samples, CSV write failures). */
  health?: HealthStatus;
  /** What the OTLP exporter last sent, for /metrics. */
  latestExport?: LatestExport;
  /** Where every exported point went, for /status. */
  accounting?: ExportAccounting;
  /** The running pipeline's export target, for /status. */
  exportTarget?: () => ExportTargetView | undefined;
  /** How often retention runs after the start pass; a minute unless a test shortens it. */
  pruneEveryMs?: number;
  /** The listener's limits; API_LIMITS unless a test shortens them. */
  listenerLimits?: ListenerLimits;
  /** V8's full collection, when the runtime exposes it: run after the CSV summaries let their buffers go. */
  collectGarbage?: () => void;
}

// Retention runs at start and then this often.
const PRUNE_EVERY_MS = 60_000;
// The inventory is static, but a resized VM's memory or CPUs change on the next read.
const INVENTORY_TTL_MS = 10 * 60_000;

export class LocalApi {
  private server: ApiServer | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly ring: SampleRing,
    readonly history: CsvHistory,
    private readonly sampler: Sampler,
    private readonly live: LiveFeed,
    private readonly deps: LocalApiDeps,
  ) {}

  /** Starts the sampler and the listener; rejects when api.address cannot be bound or TLS does not load. */
  static async start(config: AgentConfig, deps: LocalApiDeps): Promise<LocalApi> {
    const logger = deps.logger.child({ component: 'api' });
    const { api } = config;
    const host = new HostFs(config.host_root);
    const name = hostName(config, deps.env);
    const ring = new SampleRing(api.ring_size);
    const history = new CsvHistory(api.csv_dir, api.retention_days, logger, () => deps.clock.now(), deps.collectGarbage);
    // The header it sends is /status's answer, read from the context built below.
    // A stream with no sample for half the idle timeout gets a status line, so the listener never sees it idle.
    const limits = deps.listenerLimits ?? API_LIMITS;
    const live = new LiveFeed({ build: () => statusBody(context), version: () => statusVersion(context) }, deps.clock, logger, { ...LIVE_FEED_LIMITS, keepAliveMs: limits.idleTimeoutMs / 2 });
    const sampler = new Sampler(new KeptFilesHostFs(config.host_root), name, deps.clock, logger, (sample) => {
      ring.push(sample);
      history.append(sample);
      live.publish(sample);
    });
    let inventory: { at: number; value: Promise<Inventory> } | undefined;
    const context: ApiContext = {
      config, host: name, clock: deps.clock, logger, ring, history, live,
      agent: { health: deps.health, accounting: deps.accounting, exportTarget: deps.exportTarget },
      prometheusText: () => deps.latestExport?.prometheusText(),
      inventory: () => {
        const now = deps.clock.monotonic();
        if (inventory === undefined || now - inventory.at > INVENTORY_TTL_MS) inventory = { at: now, value: readInventory(host, name) };
        return inventory.value;
      },
    };
    const localApi = new LocalApi(ring, history, sampler, live, deps);
    try {
      localApi.prune();
      // Past days without a summary (the agent was down at midnight, an older version) get one;
      // today's rows so far get theirs, so that a first range into today reads only newer rows.
      history.summarizePastDays();
      history.summarizeToday();
      localApi.pruneTimer = setInterval(() => localApi.prune(), deps.pruneEveryMs ?? PRUNE_EVERY_MS);
      localApi.pruneTimer.unref();
      await sampler.start(api.collect_interval);
      localApi.server = await startApiServer(api, apiRoutes(context), logger, limits);
    } catch (err) {
      await localApi.stop();
      throw err;
    }
    deps.health?.addProvider('api', () => ({ samples: ring.size, csv_write_failures: history.writeFailures, csv_summaries_rejected: history.summariesRejected }));
    return localApi;
  }

  private prune(): void {
    this.history.prune(this.deps.clock.now());
  }

  /** `scheme://host:port` the listener answers on. */
  get url(): string {
    return this.server === undefined ? '' : `${this.server.scheme}://${this.server.address}`;
  }

  reloadTls(): void {
    this.server?.reloadTls();
  }

  async stop(): Promise<void> {
    this.deps.health?.removeProvider('api');
    clearInterval(this.pruneTimer);
    this.sampler.stop();
    // The streams' last chunk goes out on the next tick; the listener then closes every connection.
    this.live.close();
    await new Promise((resolve) => setImmediate(resolve));
    await this.server?.close();
    this.history.close();
  }
}
