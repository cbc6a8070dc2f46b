import type { AgentConfig, NamingProfile } from '../config/types';

// A family's metrics, declared once as data: the collectors create their instruments from it, the
// exporter writes each value in the declared type, and docs/METRICS.md is generated from it.

export type InstrumentKind = 'counter' | 'updowncounter' | 'gauge';

/** How a value travels on the wire: OTLP `as_int` or `as_double`. */
export type ValueType = 'int' | 'double';

/** Whether a metric is on when no config switch says otherwise, per naming profile. */
export type ProfileDefaults = Readonly<Record<NamingProfile, boolean>>;

export const ON: ProfileDefaults = { semconv: true, hostmetrics: true };
export const OFF: ProfileDefaults = { semconv: false, hostmetrics: false };
/** Recommended by the semantic conventions, off by default in the Collector's hostmetrics receiver. */
export const SEMCONV_ONLY: ProfileDefaults = { semconv: true, hostmetrics: false };

/** One attribute of a metric, by its semconv key (the hostmetrics key is its translation). */
export interface AttributeDecl {
  /** The values it takes under semconv; absent when open-ended (a device name, a pid). */
  readonly values?: readonly string[];
  /** The values under hostmetrics where the set is not the translation of `values`. */
  readonly hostmetricsValues?: readonly string[];
  /** The profiles that report it; both when absent. */
  readonly profiles?: readonly NamingProfile[];
  /** A number rather than a string (a CPU number, a pid). */
  readonly int?: boolean;
  /** The config key that adds it, when it is not always there. */
  readonly when?: string;
  /** With `when`: whether it is there while that key is unset, per profile (absent: off). */
  readonly default?: ProfileDefaults;
  /**
   * It identifies what the point is about (a process): the export moves it from the point to the
   * point's resource, one resource per distinct set (host resource plus these attributes).
   */
  readonly resource?: boolean;
}

/**
 * One metric as both naming profiles know it. A profile without a name does not report it.
 * Collectors always speak semconv attribute keys and values; the hostmetrics profile's are their
 * translation (naming.ts).
 */
export interface MetricDecl {
  readonly semconv?: string;
  readonly hostmetrics?: string;
  readonly kind: InstrumentKind;
  /** UCUM; per profile where the references write it differently (`{operation}`, `{operations}`). */
  readonly unit: string | Readonly<Record<NamingProfile, string>>;
  /** Per profile where the references differ (one says int, the other double). */
  readonly value: ValueType | Readonly<Record<NamingProfile, ValueType>>;
  readonly description: string;
  readonly attributes?: Readonly<Record<string, AttributeDecl>>;
  /** On or off by default, per profile. */
  readonly default: ProfileDefaults;
  /** The key of the family's settings that turns it on or off, when one does. */
  readonly option?: string;
}

export type Metrics = Readonly<Record<string, MetricDecl>>;

/** Opt-in in the semantic conventions, on by default in the Collector's hostmetrics receiver. */
export const HOSTMETRICS_ONLY: ProfileDefaults = { semconv: false, hostmetrics: true };

/** Whether an attribute is reported: always, or as its config key says, else its default for the profile. */
export function attributeOn(decl: AttributeDecl, setting: boolean | undefined, profile: NamingProfile): boolean {
  if (decl.when === undefined) return true;
  return setting ?? decl.default?.[profile] ?? false;
}

/** A metric key of `M`: an unknown key does not compile. */
export type MetricKey<M extends Metrics> = keyof M & string;

declare const integer: unique symbol;
/** A value for an `int` metric: made by `int()`, so a fraction never reaches the wire. */
export type Int = number & { readonly [integer]: true };

/** `value` as an integer metric's value (truncated, as the SDK truncates; NaN stays NaN and is dropped). */
export function int(value: number): Int {
  return Math.trunc(value) as Int;
}

/**
 * The value type `observe` takes for a metric: any number for a double, `Int` for a metric that is
 * int under either profile (an integer is a valid double).
 */
export type ValueOf<D extends MetricDecl> = D extends { readonly value: 'double' } ? number : Int;

/** One value of some metric of `M`, typed by its key, with `extra` beside it (its attributes). */
export type Observation<M extends Metrics, Extra> = { [K in MetricKey<M>]: [K, ValueOf<M[K]>, Extra?] }[MetricKey<M>];

/** The metric's unit under `profile`. */
export function unitIn(profile: NamingProfile, decl: MetricDecl): string {
  return typeof decl.unit === 'string' ? decl.unit : decl.unit[profile];
}

/** The metric's value type under `profile`. */
export function valueTypeIn(profile: NamingProfile, decl: MetricDecl): ValueType {
  return typeof decl.value === 'string' ? decl.value : decl.value[profile];
}

/**
 * A metric family: its metrics, whether it runs under a config, and the settings its collectors
 * are given (only those: a collector never sees the rest of the config, credentials included).
 */
export interface Family<M extends Metrics = Metrics, S = unknown> {
  readonly name: string;
  readonly metrics: M;
  /** The collectors section it belongs to: its metrics are switched by `collectors.<section>.metrics`. */
  readonly section: 'system' | 'process';
  /** The config key that switches the family. */
  readonly switch: string;
  enabled(config: AgentConfig): boolean;
  /** Where its settings live in the config, for the docs (`option` keys are under it). */
  readonly settingsKey?: string;
  settings(config: AgentConfig): S;
  /** The source files its procfs reader reads, for the docs. */
  readonly sources: string;
}

/**
 * What the config turns on or off among the family's metrics: `collectors.<section>.metrics`
 * by the metric's name under the profile, else the family's own setting for it (`option`) when
 * set. A metric not here follows its declared default for the profile.
 */
export function configuredSwitches<M extends Metrics, S>(family: Family<M, S>, config: AgentConfig, profile: NamingProfile): Partial<Record<MetricKey<M>, boolean>> {
  const settings = family.settings(config) as Record<string, unknown> | undefined;
  const byName = config.collectors[family.section].metrics;
  const switches: Partial<Record<MetricKey<M>, boolean>> = {};
  for (const key of Object.keys(family.metrics) as Array<MetricKey<M>>) {
    const decl = family.metrics[key];
    const name = nameIn(profile, decl);
    const option = decl.option === undefined ? undefined : settings?.[decl.option];
    const value = (name === undefined ? undefined : byName[name]) ?? option;
    if (typeof value === 'boolean') switches[key] = value;
  }
  return switches;
}

/** The metric's name under `profile`, or undefined when that profile does not report it. */
export function nameIn(profile: NamingProfile, decl: MetricDecl): string | undefined {
  return profile === 'semconv' ? decl.semconv : decl.hostmetrics;
}
