// One measured run of the agent's collection-and-export cycle, in a process of its own so that
// the receiver (in the parent) does not count against the agent. Started by the collection
// suite with a JSON job in argv[2]; prints one JSON CycleReport line on stdout.
//
// The pipeline is the agent's: the registry's collectors (procfs or systeminformation backend),
// registerCollector, one MeterProvider with the agent's resource, the agent's exporter (with the
// process family's points regrouped one resource per process) and transport (gRPC unless the job says HTTP) to a real OTLP receiver. The periodic reader's
// interval is far away; each cycle is a forceFlush (collect + encode + send + wait for the answer).
import { Session } from 'node:inspector';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { buildResource, readHostFacts, resourceAttributes } from '../../internal/agent/resource';
import { tuneV8ForLongRun } from '../../internal/agent/v8-tuning';
import { registerCollector } from '../../internal/collector/collector';
import { ProcessResources } from '../../internal/collector/process/resource';
import { DirectProducer } from '../../internal/collector/direct';
import { HostFs, systemClock } from '../../internal/procfs/host';
import { selectFactories } from '../../internal/collector/registry';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig, CollectorBackend } from '../../internal/config/types';
import { ExportAccounting } from '../../internal/exporter/accounting';
import type { MetricsBatch } from '../../internal/exporter/encode';
import { createMetricExporter } from '../../internal/exporter/metric-exporter';
import { createTransport } from '../../internal/exporter/transport';
import { silentLogger } from '../../internal/log/logger';
import { ownCpuMs } from './stats';

export interface CycleJob {
  /** 127.0.0.1:port of the OTLP/gRPC receiver, or its http:// URL with `protocol: 'http'`. */
  endpoint: string;
  /** Default grpc, as shipped. */
  protocol?: 'grpc' | 'http';
  /** `issue2`: cpu, memory, load, system only; `full`: the default set; or one family alone. */
  families: 'issue2' | 'full' | SystemFamily;
  backend: CollectorBackend;
  cycles: number;
  warmup: number;
  /** Track these processes (names or /regex/) with the process collector. */
  processes?: string[];
  /** Profile the measured cycles with the inspector and return the profile. */
  profile?: boolean;
}

export interface CycleReport {
  cpuPerCycleMs: number[];
  /** CPU over all measured cycles, so GC between cycles is counted too. */
  totalCpuMs: number;
  /** The same split: user space, and kernel (syscalls; the libuv pool's reads of /proc included). */
  userMs: number;
  systemMs: number;
  wallMs: number;
  /** Data points in one export. */
  series: number;
  collectors: string[];
  skipped: string[];
  rssMb: number;
  heapUsedMb: number;
  /** A V8 CPU profile (Profiler.Profile) of the measured cycles, when asked for. */
  profile?: unknown;
}

export const SYSTEM_FAMILIES = ['cpu', 'memory', 'load', 'system', 'disk', 'network', 'paging', 'filesystem', 'processes', 'pressure'] as const;
export type SystemFamily = (typeof SYSTEM_FAMILIES)[number];
const ISSUE2: readonly SystemFamily[] = ['cpu', 'memory', 'load', 'system'];

function jobConfig(job: CycleJob): AgentConfig {
  const config = defaultConfig();
  config.telemetryflow.endpoint = job.endpoint;
  config.telemetryflow.protocol = job.protocol ?? 'grpc';
  config.telemetryflow.tls.enabled = false;
  config.buffer.enabled = false;
  config.heartbeat.enabled = false;
  config.health.enabled = false;
  config.collectors.system.backend = job.backend;
  config.collectors.system.interval = 3_600_000;
  if (job.families !== 'full') {
    const on = job.families === 'issue2' ? ISSUE2 : [job.families];
    for (const family of SYSTEM_FAMILIES) config.collectors.system[family] = on.includes(family);
  }
  if (job.processes !== undefined) {
    config.collectors.process.enabled = true;
    config.collectors.process.processes = job.processes;
    // Due at every forced cycle: the process collector reads on the first cycle at least its
    // interval after the last, and the bench measures what one read and export of them costs.
    config.collectors.process.interval = 0;
  }
  return config;
}

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result as T))));
}

async function main(): Promise<void> {
  // As the agent's `start` does, so the figures are those of what ships.
  tuneV8ForLongRun();
  const job = JSON.parse(process.argv[2]) as CycleJob;
  const config = jobConfig(job);
  const host = new HostFs(config.host_root);
  const logger = silentLogger();
  const agentId = 'bench';
  const accounting = new ExportAccounting();
  const transport = createTransport(config, agentId);
  // As the agent exports the process family: one resource per process.
  const processResources = config.collectors.process.enabled ? new ProcessResources() : undefined;
  const regroup = processResources === undefined ? undefined : (batch: MetricsBatch): MetricsBatch => processResources.regroup(batch);
  const exporter = createMetricExporter({ transport, accounting, logger, timeoutMs: 10_000, regroup });
  const direct = new DirectProducer();
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: config.collectors.system.interval, metricProducers: [direct] });
  const resource = buildResource(resourceAttributes(config, agentId, await readHostFacts(host), process.env));
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('tfo-agent');
  const selection = selectFactories(config, logger);
  for (const factory of selection.factories) {
    const collector = factory.create({ host, clock: systemClock, config, naming: config.collectors.system.naming, logger });
    registerCollector(meter, collector, config.collectors.system.naming, systemClock, () => undefined, undefined, direct);
  }

  for (let i = 0; i < job.warmup; i++) await provider.forceFlush();
  const producedBefore = accounting.produced;
  await provider.forceFlush();
  const series = accounting.produced - producedBefore;

  const session = job.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
  }
  const cpuPerCycleMs: number[] = [];
  const startUsage = process.cpuUsage();
  const startCpu = ownCpuMs();
  const startWall = performance.now();
  for (let i = 0; i < job.cycles; i++) {
    const before = ownCpuMs();
    await provider.forceFlush();
    cpuPerCycleMs.push(ownCpuMs() - before);
  }
  const totalCpuMs = ownCpuMs() - startCpu;
  const usage = process.cpuUsage(startUsage);
  const wallMs = performance.now() - startWall;
  const profile = session ? (await post<{ profile: unknown }>(session, 'Profiler.stop')).profile : undefined;
  session?.disconnect();

  const memory = process.memoryUsage();
  const report: CycleReport = {
    cpuPerCycleMs,
    totalCpuMs,
    userMs: usage.user / 1000,
    systemMs: usage.system / 1000,
    wallMs,
    series,
    collectors: selection.factories.map((f) => f.name),
    skipped: selection.skipped.map((s) => `${s.family} (${s.reason})`),
    rssMb: memory.rss / 2 ** 20,
    heapUsedMb: memory.heapUsed / 2 ** 20,
    profile,
  };
  await provider.shutdown();
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
