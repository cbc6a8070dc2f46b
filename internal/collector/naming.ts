import { ValueType, type Attributes, type BatchObservableResult, type HrTime, type Meter, type Observable } from '@opentelemetry/api';
import type { NamingProfile } from '../config/types';
import { nameIn, unitIn, valueTypeIn, type MetricDecl, type MetricKey, type Metrics, type ValueOf } from './declaration';
import { seriesKey, type ObservedSeries } from './series';

// semconv attribute key -> hostmetrics attribute key (OpenTelemetry Collector, semconv 1.9).
export const HOSTMETRICS_KEYS: Readonly<Record<string, string>> = {
  'cpu.mode': 'state',
  'cpu.logical_number': 'cpu',
  'system.memory.state': 'state',
  'system.memory.linux.slab.state': 'state',
  'system.device': 'device',
  'system.paging.state': 'state',
  'system.paging.direction': 'direction',
  'system.paging.fault.type': 'type',
  'disk.io.direction': 'direction',
  'system.filesystem.mode': 'mode',
  'system.filesystem.mountpoint': 'mountpoint',
  'system.filesystem.type': 'type',
  'system.filesystem.state': 'state',
  'network.interface.name': 'device',
  'network.io.direction': 'direction',
  'network.transport': 'protocol',
  'network.connection.state': 'state',
  'process.state': 'status',
  'process.context_switch.type': 'type',
  'system.linux.pressure.resource': 'resource',
  'system.linux.pressure.stall_type': 'type',
  'system.linux.interrupt.type': 'type',
};

// Values that differ between the profiles, by semconv key.
export const HOSTMETRICS_VALUES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'cpu.mode': { iowait: 'wait' },
  'system.memory.state': { buffers: 'buffered' },
  'system.paging.direction': { in: 'page_in', out: 'page_out' },
  'process.state': { defunct: 'zombies' },
  // The Collector reports gopsutil's names: the kernel's (tcp_states.h) upper case, but FIN_WAIT1
  // and FIN_WAIT2 without the underscore. (Its FIN_WAIT_1, FIN_WAIT_2 and DELETE series are
  // placeholders that stay at zero on Linux; they are not reproduced.)
  'network.connection.state': {
    established: 'ESTABLISHED', syn_sent: 'SYN_SENT', syn_received: 'SYN_RECV', fin_wait_1: 'FIN_WAIT1',
    fin_wait_2: 'FIN_WAIT2', time_wait: 'TIME_WAIT', closed: 'CLOSE', close_wait: 'CLOSE_WAIT',
    last_ack: 'LAST_ACK', listen: 'LISTEN', closing: 'CLOSING',
  },
};

export function translateAttributes(profile: NamingProfile, attrs: Attributes | undefined): Attributes | undefined {
  if (profile === 'semconv' || attrs === undefined) return attrs;
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attrs)) {
    const hostKey = HOSTMETRICS_KEYS[key] ?? key;
    const valueMap = HOSTMETRICS_VALUES[key];
    if (key === 'cpu.logical_number') {
      // semconv numbers CPUs (0); the Collector names them as gopsutil does ("cpu0").
      out[hostKey] = `cpu${String(value)}`;
      continue;
    }
    out[hostKey] = valueMap !== undefined && typeof value === 'string' ? (valueMap[value] ?? value) : value;
  }
  return out;
}

/** The metrics of `defs` reported under `profile` and on (`enabled`), with their names there. */
export function* reportedMetrics<M extends Metrics>(profile: NamingProfile, defs: M, enabled: (key: MetricKey<M>) => boolean): Generator<[MetricKey<M>, string, MetricDecl]> {
  for (const key of Object.keys(defs) as Array<MetricKey<M>>) {
    const def = defs[key];
    const name = nameIn(profile, def);
    if (name !== undefined && enabled(key)) yield [key, name, def];
  }
}

/** The wire type of the metric's values under `profile`. */
export function wireValueType(profile: NamingProfile, def: MetricDecl): ValueType {
  return valueTypeIn(profile, def) === 'int' ? ValueType.INT : ValueType.DOUBLE;
}

/** Where a collector's values go: SDK instruments (ProfileMetrics) or direct points (DirectMetrics). */
export interface MetricSink<M extends Metrics> {
  /** Whether the metric is reported under the current profile and config. */
  has(key: MetricKey<M>): boolean;
  /**
   * One value. `startTime` is when the series began, where the collector knows it; the SDK's
   * instruments set their own (the first collection that saw the series).
   */
  observe<K extends MetricKey<M>>(result: BatchObservableResult | undefined, key: K, value: ValueOf<M[K]>, attrs?: Attributes, startTime?: HrTime): void;
}

/**
 * The instruments of one collector under the configured profile, created once. `observe` is
 * called from the collector's single batch callback.
 */
export class ProfileMetrics<M extends Metrics> implements MetricSink<M> {
  private readonly instruments = new Map<MetricKey<M>, Observable>();
  /** Instrument name by key, for the observed-series record. */
  private readonly names = new Map<MetricKey<M>, string>();
  /** Where observations are recorded while a collection runs (see ObservedSeries). */
  series: ObservedSeries | undefined;
  /**
   * One frozen attribute object per series, by its key, handed to the SDK at every collection:
   * the SDK exports the object it was given, and the exporter keeps each attribute set's encoded
   * bytes by object, so a series whose collector builds its attributes anew each cycle is encoded
   * once, not every cycle. Series not observed in the last two collections are let go.
   */
  private attributeSets = new Map<string, Attributes>();
  private previousSets = new Map<string, Attributes>();

  constructor(meter: Meter, readonly profile: NamingProfile, defs: M, enabled: (key: MetricKey<M>) => boolean) {
    for (const [key, name, def] of reportedMetrics(profile, defs, enabled)) {
      const options = { unit: unitIn(profile, def), description: def.description, valueType: wireValueType(profile, def) };
      const instrument =
        def.kind === 'counter'
          ? meter.createObservableCounter(name, options)
          : def.kind === 'updowncounter'
            ? meter.createObservableUpDownCounter(name, options)
            : meter.createObservableGauge(name, options);
      this.instruments.set(key, instrument);
      this.names.set(key, name);
    }
  }

  /** The names of the instruments created under this profile. */
  get instrumentNames(): string[] {
    return [...this.names.values()];
  }

  get observables(): Observable[] {
    return [...this.instruments.values()];
  }

  has(key: MetricKey<M>): boolean {
    return this.instruments.has(key);
  }

  /** A collection starts (called before the collector observes). */
  beginCollection(): void {
    this.previousSets = this.attributeSets;
    this.attributeSets = new Map();
  }

  observe<K extends MetricKey<M>>(result: BatchObservableResult | undefined, key: K, value: ValueOf<M[K]>, attrs?: Attributes): void {
    const instrument = this.instruments.get(key);
    if (instrument === undefined || result === undefined || !Number.isFinite(value)) return;
    const translated = translateAttributes(this.profile, attrs);
    const series = seriesKey(translated);
    this.series?.recordKey(this.names.get(key)!, series);
    result.observe(instrument, value, this.attributeSet(series, translated));
  }

  private attributeSet(series: string, attrs: Attributes | undefined): Attributes {
    let set = this.attributeSets.get(series);
    if (set === undefined) {
      // A copy: the collector may reuse its object for the next series.
      set = this.previousSets.get(series) ?? Object.freeze({ ...attrs });
      this.attributeSets.set(series, set);
    }
    return set;
  }
}
