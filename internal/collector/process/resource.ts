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

/** One process's identity, one object however many attribute sets carry it. */
interface Identity {
  attributes: Attributes;
  /** Its resource, made once for the host resource it extends. */
  resource?: Resource;
  host?: Resource;
}

/** A point's attributes as its process's identity and the rest. */
interface Split {
  identity: Identity;
  rest: Attributes;
}

/** One process's share of a batch, per scope its metrics. */
type ProcessPart = Map<ScopeMetrics['scope'], MetricData[]>;

/**
 * Regroups the process family's points into one ResourceMetrics per process. What it builds is
 * kept by object between exports, as long as the collector keeps the attribute sets it came from
 * (a series hands over the same attribute object every cycle): a process keeps its identity and
 * resource objects, so lookups go by object and the encoder's per-object bytes serve every cycle.
 */
export class ProcessResources {
  private readonly splits = new WeakMap<Attributes, Split | null>();
  /** The identities of the processes in the last export, by their attributes' key. */
  private identities = new Map<string, Identity>();
  /** Identities first met during this export. */
  private readonly met = new Map<string, Identity>();

  /**
   * The batch with each process's points under a resource of its own, after the host's and
   * before any other resource the batch carries (a receiver's senders). A batch without process
   * points is returned as it is.
   */
  regroup(batch: MetricsBatch): MetricsBatch {
    const parts = new Map<Identity, ProcessPart>();
    const hostScopes: ScopeMetrics[] = [];
    for (const scopeMetrics of batch.scopeMetrics) {
      const kept: MetricData[] = [];
      for (const metric of scopeMetrics.metrics) {
        if (!PROCESS_METRICS.has(metric.descriptor.name)) {
          kept.push(metric);
          continue;
        }
        const byProcess = new Map<Identity, Array<DataPoint<number>>>();
        const unidentified: Array<DataPoint<number>> = [];
        for (const point of metric.dataPoints as Array<DataPoint<number>>) {
          const split = this.split(point.attributes);
          if (split === null) {
            unidentified.push(point);
            continue;
          }
          let points = byProcess.get(split.identity);
          if (points === undefined) byProcess.set(split.identity, (points = []));
          points.push({ startTime: point.startTime, endTime: point.endTime, attributes: split.rest, value: point.value });
        }
        if (unidentified.length > 0) kept.push({ ...metric, dataPoints: unidentified } as MetricData);
        for (const [identity, dataPoints] of byProcess) {
          let part = parts.get(identity);
          if (part === undefined) parts.set(identity, (part = new Map()));
          const list = part.get(scopeMetrics.scope) ?? [];
          list.push({ ...metric, dataPoints } as MetricData);
          part.set(scopeMetrics.scope, list);
        }
      }
      hostScopes.push(kept.length === scopeMetrics.metrics.length ? scopeMetrics : { scope: scopeMetrics.scope, metrics: kept });
    }
    // Only the processes of this export are remembered: an exited one's identity is let go.
    const identities = new Map<string, Identity>();
    for (const [key, identity] of [...this.identities, ...this.met]) if (parts.has(identity)) identities.set(key, identity);
    this.identities = identities;
    this.met.clear();
    if (parts.size === 0) return batch;
    const processes: ResourceMetrics[] = [...parts].map(([identity, scopes]) => {
      if (identity.resource === undefined || identity.host !== batch.resource) {
        identity.host = batch.resource;
        identity.resource = resourceFromAttributes({ ...batch.resource.attributes, ...identity.attributes });
      }
      return { resource: identity.resource, scopeMetrics: [...scopes].map(([scope, list]) => ({ scope, metrics: list })) };
    });
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
      split = null;
      if ('process.pid' in identity) {
        let known = this.identities.get(key) ?? this.met.get(key);
        if (known === undefined) this.met.set(key, (known = { attributes: identity }));
        split = { identity: known, rest };
      }
      this.splits.set(attributes, split);
    }
    return split;
  }
}
