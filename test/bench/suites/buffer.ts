// The spill buffer's costs: how fast it writes and replays, how much disk a point takes, whether
// a day's outage of the default metric set fits the default bound, and what it costs a healthy
// cycle. Peers are real: a SQLite file in a temp directory and the OTLP receiver on loopback.
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { SpillBuffer } from '../../../internal/buffer/buffer';
import { BufferRuntime } from '../../../internal/buffer/runtime';
import { Replayer } from '../../../internal/buffer/replayer';
import { registerCollector } from '../../../internal/collector/collector';
import { HostFs, systemClock } from '../../../internal/procfs/host';
import { enabledFactories } from '../../../internal/collector/registry';
import { defaultConfig } from '../../../internal/config/defaults';
import type { AgentConfig } from '../../../internal/config/types';
import { ExportAccounting } from '../../../internal/exporter/accounting';
import { countDataPoints, createMetricExporter } from '../../../internal/exporter/metric-exporter';
import { createTransport } from '../../../internal/exporter/transport';
import type { EncodedBatch } from '../../../internal/exporter/types';
import { silentLogger } from '../../../internal/log/logger';
import { ManualReader } from '../../buffer/batches';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver';
import type { BenchFigure, BenchSection } from '../section';
import { median, ownCpuMs, processCpuMs } from '../stats';

const MB = 1024 * 1024;
const DEFAULT_INTERVAL_S = 15;
const DAY_S = 24 * 3600;

/** One collection of the default metric set on this host, as the exporter would send it. */
async function defaultCycle(): Promise<{ metrics: ResourceMetrics; batch: EncodedBatch; families: string[] }> {
  const config = defaultConfig();
  const reader = new ManualReader(AggregationTemporality.CUMULATIVE);
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'tfo-agent', 'host.name': 'bench-host' }), readers: [reader] });
  const meter = provider.getMeter('tfo-agent');
  const host = new HostFs('/');
  const families: string[] = [];
  for (const factory of enabledFactories(config)) {
    const collector = factory.create({ host, clock: systemClock, config, naming: config.collectors.system.naming, logger: silentLogger() });
    registerCollector(meter, collector, config.collectors.system.naming, systemClock, () => undefined);
    families.push(factory.name);
  }
  await reader.collect(); // first snapshot: rates and utilization need two
  await new Promise((r) => setTimeout(r, 1000));
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics) as Uint8Array;
  return { metrics: resourceMetrics, batch: { body, points: countDataPoints(resourceMetrics), createdAt: Date.now() }, families };
}

function benchConfig(dir: string, receiver: OtlpReceiver, protocol: 'grpc' | 'http'): AgentConfig {
  const config = defaultConfig();
  config.telemetryflow.endpoint = protocol === 'grpc' ? receiver.grpcAddress : receiver.httpUrl;
  config.telemetryflow.protocol = protocol;
  config.telemetryflow.tls.enabled = false;
  config.exporter.otlp.endpoint_version = 'v1';
  config.buffer = { ...config.buffer, path: dir, replay_rate: 0 };
  return config;
}

function fsTypeOf(dir: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface ReceiverProcess {
  grpcAddress: string;
  httpUrl: string;
  /** Points the receiver accepted since the last call. */
  points(): Promise<number>;
  /** The receiver process's CPU time so far, ms. */
  cpuMs(): number;
  close(): void;
}

async function startReceiverProcess(): Promise<ReceiverProcess> {
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'buffer', 'receiver-process.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const nextLine = (): Promise<string> => new Promise((resolve) => lines.once('line', resolve));
  const ports = JSON.parse(await nextLine()) as { grpcAddress: string; httpUrl: string };
  return {
    ...ports,
    points: async () => {
      const answer = nextLine();
      child.stdin.write('points\n');
      return (JSON.parse(await answer) as { points: number }).points;
    },
    cpuMs: () => processCpuMs(child.pid as number),
    close: () => child.stdin.end(),
  };
}

export async function run(): Promise<BenchSection> {
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  const root = mkdtempSync(join(tmpdir(), 'tfo-bench-buffer-'));
  const receiver = await startOtlpReceiver();
  try {
    const cycle = await defaultCycle();
    const perBatch = cycle.batch.points;
    notes.push(`default metric set on this host: ${perBatch} points per cycle from ${cycle.families.join(', ')}; ${cycle.batch.body.length} bytes of OTLP protobuf`);
    notes.push(`buffer directory on ${fsTypeOf(root)} (${root}); synchronous=FULL fsyncs the WAL at every spill`);

    // Spill: one committed transaction per batch, as during an outage.
    const spillDir = join(root, 'spill');
    const accounting = new ExportAccounting();
    const buffer = SpillBuffer.open({ config: { ...defaultConfig().buffer, path: spillDir }, accounting, logger: silentLogger() });
    const spillBatches = 2000;
    const started = performance.now();
    for (let i = 0; i < spillBatches; i += 1) buffer.accept({ ...cycle.batch, createdAt: Date.now() });
    const spillMs = performance.now() - started;
    const stats = buffer.stats();
    figures.push({ name: 'spill throughput', value: Math.round((spillBatches * perBatch) / (spillMs / 1000)), unit: 'points/s', detail: `${spillBatches} batches of ${perBatch}, ${(spillMs / spillBatches).toFixed(2)} ms per batch` });
    const bytesPerPoint = stats.bytes / stats.points;
    figures.push({ name: 'stored bytes per point', value: bytesPerPoint, unit: 'B', detail: `deflate level 1; raw protobuf ${(cycle.batch.body.length / perBatch).toFixed(1)} B/point` });
    buffer.close();
    const fileBytes = statSync(join(spillDir, 'buffer.db')).size;
    figures.push({ name: 'file bytes per point', value: fileBytes / (spillBatches * perBatch), unit: 'B', detail: 'database file after close (pages, index, free space)' });
    const dayBytes = (DAY_S / DEFAULT_INTERVAL_S) * perBatch * (fileBytes / (spillBatches * perBatch));
    figures.push({ name: '24 h outage at 15 s, default set', value: dayBytes / MB, unit: 'MB', detail: `${DAY_S / DEFAULT_INTERVAL_S} cycles x ${perBatch} points; bound 100 MB: ${dayBytes <= 100 * MB ? 'fits' : 'does NOT fit'}` });

    // Replay: as fast as a receiver in another process takes it (its decoding is not ours).
    const peer = await startReceiverProcess();
    try {
      for (const protocol of ['grpc', 'http'] as const) {
        const config = benchConfig(join(root, `replay-${protocol}`), receiver, protocol);
        config.telemetryflow.endpoint = protocol === 'grpc' ? peer.grpcAddress : peer.httpUrl;
        const acc = new ExportAccounting();
        const fill = SpillBuffer.open({ config: config.buffer, accounting: acc, logger: silentLogger() });
        for (let i = 0; i < 1000; i += 1) fill.accept({ ...cycle.batch, createdAt: Date.now() });
        const transport = createTransport(config, 'bench');
        const replayer = new Replayer({ buffer: fill, transport, logger: silentLogger(), timeoutMs: 10_000, retry: config.telemetryflow.retry, replayRate: 0, idleIntervalMs: 1000 });
        const t0 = performance.now();
        const c0 = ownCpuMs();
        const r0 = peer.cpuMs();
        await replayer.drain(() => true);
        const cpuMs = ownCpuMs() - c0;
        const receiverCpuMs = peer.cpuMs() - r0;
        const receiverBusy = receiverCpuMs / (performance.now() - t0);
        const replayMs = performance.now() - t0;
        const received = await peer.points();
        figures.push({ name: `replay throughput (${protocol})`, value: Math.round(acc.replayed / (replayMs / 1000)), unit: 'points/s', detail: `${acc.replayed} points acknowledged, ${received} decoded by the receiver, whose process was ${(receiverBusy * 100).toFixed(0)}% busy; gzip as configured; goal >= 100,000` });
        figures.push({ name: `receiver capacity (${protocol})`, value: Math.round(acc.replayed / (receiverCpuMs / 1000)), unit: 'points/s', detail: 'points per receiver CPU-second: the most this test receiver can take, however fast the agent sends' });
        figures.push({ name: `replay agent CPU per point (${protocol})`, value: (cpuMs * 1000) / acc.replayed, unit: 'us', detail: `read + inflate + gzip + send + delete; ${Math.round(acc.replayed / (cpuMs / 1000))} points per CPU-second` });
        fill.close();
        await transport.close();
      }
    } finally {
      peer.close();
    }

    // A healthy cycle: the exporter sending live, with and without the buffer in the path. The
    // two exporters alternate cycle by cycle so that drift on a shared machine hits both alike.
    const rounds = 7;
    const cyclesPerRound = 300;
    const pipelines = [false, true].map((withBuffer) => {
      const config = benchConfig(join(root, `healthy-${withBuffer ? 'on' : 'off'}`), receiver, 'grpc');
      const acc = new ExportAccounting();
      const transport = createTransport(config, 'bench');
      const runtime = withBuffer ? BufferRuntime.start(config, transport, acc, silentLogger()) : undefined;
      const exporter = createMetricExporter({ transport: runtime?.liveTransport ?? transport, accounting: acc, logger: silentLogger(), timeoutMs: 10_000, spill: runtime?.buffer });
      return { runtime, exporter, cpuMs: 0 };
    });
    const ratios: number[] = [];
    const perCycle: number[][] = [[], []];
    for (let round = -1; round < rounds; round += 1) {
      for (const pipeline of pipelines) pipeline.cpuMs = 0;
      for (let i = 0; i < cyclesPerRound; i += 1) {
        // Alternate which goes first, so that garbage one leaves is collected on the other as often.
        for (const pipeline of i % 2 === 0 ? pipelines : [...pipelines].reverse()) {
          const c0 = ownCpuMs();
          await new Promise((resolve) => pipeline.exporter.export(cycle.metrics, resolve));
          // The replayer's idle pass (upkeep, then a look for work) runs every flush_interval
          // (5 s): three per 15 s cycle.
          for (let k = 0; pipeline.runtime && k < DEFAULT_INTERVAL_S / 5; k += 1) {
            pipeline.runtime.buffer.maintain();
            pipeline.runtime.buffer.peek(1, Infinity, Infinity);
          }
          pipeline.cpuMs += ownCpuMs() - c0;
        }
      }
      if (round < 0) continue; // warm-up round
      ratios.push(pipelines[1].cpuMs / pipelines[0].cpuMs);
      pipelines.forEach((p, i) => perCycle[i].push(p.cpuMs / cyclesPerRound));
    }
    for (const pipeline of pipelines) {
      await pipeline.exporter.shutdown();
      await pipeline.runtime?.stop();
    }
    const [off, on] = perCycle.map(median);
    figures.push({ name: 'healthy cycle CPU, buffer off', value: off, unit: 'ms', detail: `median of ${rounds} rounds of ${cyclesPerRound} exports of ${perBatch} points over gRPC` });
    figures.push({ name: 'healthy cycle CPU, buffer on', value: on, unit: 'ms', detail: 'live-first gate + 3 idle replayer passes (age bound, look for work) per cycle' });
    figures.push({ name: 'buffer overhead on a healthy cycle', value: (median(ratios) - 1) * 100, unit: '%', detail: `median of per-round on/off ratios (range ${((Math.min(...ratios) - 1) * 100).toFixed(1)}% to ${((Math.max(...ratios) - 1) * 100).toFixed(1)}%); goal <= 5%` });
    // The buffer's own work on a healthy cycle, measured alone (an A/A run of the comparison above
    // differs by a few percent on a shared machine): the idle passes; the live-first gate is a counter.
    const idle = SpillBuffer.open({ config: { ...defaultConfig().buffer, path: join(root, 'idle') }, accounting: new ExportAccounting(), logger: silentLogger() });
    const passes = 5000;
    const p0 = ownCpuMs();
    for (let i = 0; i < passes; i += 1) {
      idle.maintain();
      idle.peek(1, Infinity, Infinity);
    }
    const passMs = (ownCpuMs() - p0) / passes;
    idle.close();
    figures.push({ name: 'idle replayer pass CPU', value: passMs * 1000, unit: 'us', detail: `mean of ${passes}; 3 per 15 s cycle = ${(((3 * passMs) / off) * 100).toFixed(2)}% of the buffer-off cycle` });
  } finally {
    await receiver.close();
    rmSync(root, { recursive: true, force: true });
  }
  return { title: 'Spill buffer (SQLite, WAL, synchronous=FULL)', figures, notes };
}
