import type { AgentConfig } from '../config/types';
import type { ExportAccounting } from '../exporter/accounting';
import type { OtlpTransport } from '../exporter/types';
import type { Logger } from '../log/logger';
import { SpillBuffer } from './buffer';
import { LiveFirstGate } from './live-gate';
import { Replayer } from './replayer';

/**
 * The buffer as the agent runs it: the file, the replayer draining it behind live exports, and
 * the transport the live exporter must use so that it goes first. Built before the exporter.
 */
export class BufferRuntime {
  private constructor(
    readonly buffer: SpillBuffer,
    private readonly replayer: Replayer,
    /** Give this to createMetricExporter as `transport` (it wraps the shared one). */
    readonly liveTransport: OtlpTransport,
    private readonly now: () => number,
  ) {}

  /** Opens the buffer and starts replaying. Throws BufferLockedError when another agent holds buffer.path. */
  static start(config: AgentConfig, transport: OtlpTransport, accounting: ExportAccounting, logger: Logger, logsTransport?: () => OtlpTransport): BufferRuntime {
    const buffer = SpillBuffer.open({ config: config.buffer, accounting, logger });
    const gate = new LiveFirstGate();
    const replayer = new Replayer({
      buffer,
      transport,
      logsTransport,
      logger,
      timeoutMs: config.telemetryflow.timeout,
      retry: config.telemetryflow.retry,
      replayRate: config.buffer.replay_rate,
      idleIntervalMs: config.buffer.flush_interval,
      gate,
    });
    replayer.start();
    return new BufferRuntime(buffer, replayer, gate.wrap(transport), Date.now);
  }

  /** The `buffer` section of /health. */
  status(): Record<string, unknown> {
    const stats = this.buffer.stats();
    const quarantine = this.buffer.quarantineStats();
    return {
      file: this.buffer.file,
      memory_fallback: this.buffer.inMemoryFallback,
      backlog_batches: stats.batches,
      backlog_points: stats.points,
      backlog_bytes: stats.bytes,
      oldest_age_seconds: stats.oldestAt === undefined ? 0 : Math.round((this.now() - stats.oldestAt) / 1000),
      quarantined_batches: quarantine.batches,
    };
  }

  /** Stops replaying and closes the file; call after the exporter's final export. */
  async stop(): Promise<void> {
    await this.replayer.stop();
    this.buffer.close();
  }
}
