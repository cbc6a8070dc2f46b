import type { HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { uptime } from 'node:os';
import type { NamingProfile } from '../config/types';
import type { Clock, HostFs } from '../procfs/host';
import { readStat } from '../procfs/stat';
import { nameIn, type Family } from './declaration';

const nanos = (t: HrTime): number => t[0] * 1e9 + t[1];

/**
 * The host's boot time, ms since the epoch: btime of /proc/stat under the host root, else (no
 * procfs: the portable backend) now minus the uptime Node reports.
 */
export async function hostBootTimeMs(host: HostFs, clock: Clock): Promise<number> {
  try {
    return (await readStat(host)).bootTime * 1000;
  } catch {
    return clock.now() - uptime() * 1000;
  }
}

/**
 * Boot time as the start of the system families' cumulative sums, under both profiles, as the
 * Collector's hostmetrics scrapers set it: their kernel counters run since boot, not since the
 * agent started, and a first point set against the agent's start would claim the whole count
 * since boot was made in no time.
 *
 * The SDK starts a series at the collection that first saw it, and again at a reset (a counter
 * that went down). A series that was there from its instrument's first collection has counted
 * since boot and gets boot time; one that appeared later (a new interface, a new mount) or was
 * reset keeps the SDK's start, which marks where its count began.
 */
export class BootStartTimes {
  private readonly boot: HrTime;
  private readonly tracked = new Set<string>();
  /** Instrument name -> the earliest start the SDK gave its series (its first collection), in ns. */
  private readonly firstStart = new Map<string, number>();

  constructor(bootTimeMs: number) {
    this.boot = millisToHrTime(bootTimeMs);
  }

  /** The family's sums, by their names under `profile`, start at boot time. */
  track(family: Family, profile: NamingProfile): void {
    for (const decl of Object.values(family.metrics)) {
      const name = nameIn(profile, decl);
      if (name !== undefined && decl.kind !== 'gauge') this.tracked.add(name);
    }
  }

  /** Sets, in place, the start of every tracked series that has run since its instrument's first collection. */
  apply(metrics: ResourceMetrics): void {
    for (const scope of metrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.dataPointType !== DataPointType.SUM || !this.tracked.has(metric.descriptor.name)) continue;
        const name = metric.descriptor.name;
        let first = this.firstStart.get(name) ?? Infinity;
        for (const point of metric.dataPoints) first = Math.min(first, nanos(point.startTime));
        this.firstStart.set(name, first);
        for (const point of metric.dataPoints) if (nanos(point.startTime) === first) (point as { startTime: HrTime }).startTime = this.boot;
      }
    }
  }
}
