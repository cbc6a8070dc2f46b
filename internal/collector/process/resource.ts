// One resource per process, as both references export the process family: the collector observes
// its points on the agent's one MeterProvider, each carrying its process's identity, and before
// the export is encoded those points are regrouped under a resource of their own (the host's
// attributes plus the identity), the identity taken off the points. Local readers (the Prometheus
// exposition, the collectd sender) read the batch as collected, identity on the points.
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { DataPoint, MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricsBatch } from '../../exporter/encode';
import { nameIn } from '../declaration';
import { metrics, PROCESS } from './declaration';

/** The attribute keys that identify a process, as the declaration marks them. */
const IDENTITY_KEYS: ReadonlySet<string> = new Set(Object.entries(PROCESS).filter(([, a]) => a.resource).map(([key]) => key));

/** The metric names of the process family, under either profile. */
const PROCESS_METRICS: ReadonlySet<string> = new Set(
  Object.values(metrics).flatMap((decl) => [nameIn('semconv', decl), nameIn('hostmetrics', decl)]).filter((name): name is string => name !== undefined),
);

/** A point's attributes as its process's identity (and a key for it) and the rest. */
interface Split {
  key: string;
  identity: Attributes;
  rest: Attributes;
}

/** One process's share of a batch: its resource and, per scope, its metrics. */
interface ProcessPart {
  resource: Resource;
  scopes: Map<ScopeMetrics['scope'], MetricData[]>;
}

/**
 * Regroups the process family's points into one ResourceMetrics per process. What it builds is
 * kept by object between exports (a series hands over the same attribute object every cycle, and
 * a process keeps its resource object), so the encoder's per-object bytes serve every cycle.
 */
export class ProcessResources {
  private readonly splits = new WeakMap<Attributes, Split | null>();
  private host: Resource | undefined;
  private resources = new Map<string, Resource>();

  /**
   * The batch with each process's points under a resource of its own, after the host's and
   * before any other resource the batch carries (a receiver's senders). A batch without process
   * points is returned as it is.
   */
  regroup(batch: MetricsBatch): MetricsBatch {
    if (batch.resource !== this.host) {
      this.host = batch.resource;
      this.resources = new Map();
    }
    const parts = new Map<string, ProcessPart>();
    const resources = new Map<string, Resource>();
    const hostScopes: ScopeMetrics[] = [];
    for (const scopeMetrics of batch.scopeMetrics) {
      const kept: MetricData[] = [];
      for (const metric of scopeMetrics.metrics) {
        if (!PROCESS_METRICS.has(metric.descriptor.name)) {
          kept.push(metric);
          continue;
        }
        const byProcess = new Map<string, DataPoint<number>[]>();
        const unidentified: DataPoint<number>[] = [];
        for (const point of metric.dataPoints as Array<DataPoint<number>>) {
          const split = this.split(point.attributes);
          if (split === null) {
            unidentified.push(point);
            continue;
          }
          let points = byProcess.get(split.key);
          if (points === undefined) {
            byProcess.set(split.key, (points = []));
            if (!parts.has(split.key)) {
              const resource = this.resources.get(split.key) ?? resourceFromAttributes({ ...batch.resource.attributes, ...split.identity });
              resources.set(split.key, resource);
              parts.set(split.key, { resource, scopes: new Map() });
            }
          }
          points.push({ ...point, attributes: split.rest });
        }
        if (unidentified.length > 0) kept.push({ ...metric, dataPoints: unidentified } as MetricData);
        for (const [key, dataPoints] of byProcess) {
          const { scopes } = parts.get(key)!;
          const list = scopes.get(scopeMetrics.scope) ?? [];
          list.push({ ...metric, dataPoints } as MetricData);
          scopes.set(scopeMetrics.scope, list);
        }
      }
      hostScopes.push(kept.length === scopeMetrics.metrics.length ? scopeMetrics : { scope: scopeMetrics.scope, metrics: kept });
    }
    if (parts.size === 0) return batch;
    // Only the processes of this export keep their resource: an exited one's is let go.
    this.resources = resources;
    const processes: ResourceMetrics[] = [...parts.values()].map(({ resource, scopes }) => ({
      resource,
      scopeMetrics: [...scopes].map(([scope, list]) => ({ scope, metrics: list })),
    }));
    return { resource: batch.resource, scopeMetrics: hostScopes.filter((s) => s.metrics.length > 0), others: [...processes, ...(batch.others ?? [])] };
  }

  /** The identity and the rest of an attribute set; null when it names no process. */
  private split(attributes: Attributes): Split | null {
    let split = this.splits.get(attributes);
    if (split === undefined) {
      const identity: Attributes = {};
      const rest: Attributes = {};
      let key = '';
      for (const name in attributes) {
        if (IDENTITY_KEYS.has(name)) {
          identity[name] = attributes[name];
          key += `${name}\u0000${String(attributes[name])}\u0001`;
        } else {
          rest[name] = attributes[name];
        }
      }
      split = 'process.pid' in identity ? { key, identity, rest } : null;
      this.splits.set(attributes, split);
    }
    return split;
  }
}
