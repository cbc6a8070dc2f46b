// Compares what the agent exported against the pinned reference facts of one naming profile
// (test/fixtures/reference/{hostmetrics,semconv}.json) and names every difference in one line,
// stable across runs and machines, so a test can hold the exact list of known differences.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceivedPoint } from '../support/otlp-receiver';
import { FIXTURES } from '../support/paths';

export type Profile = 'hostmetrics' | 'semconv';

interface HostmetricsMetric {
  scraper: string;
  enabled: boolean;
  unit: string;
  type: 'sum' | 'gauge';
  monotonic?: boolean;
  valueType: 'int' | 'double';
  /** Wire key -> allowed values, or null for free text. */
  attributes: Record<string, string[] | null>;
  everyScrape?: Record<string, string[]>;
}

interface SemconvAttribute {
  requirementLevel: 'required' | 'recommended' | 'opt_in';
  type: string;
  values?: string[];
  /** Custom values are expected beside the well-known ones. */
  open?: boolean;
}

interface SemconvMetric {
  group: string;
  instrument: 'counter' | 'updowncounter' | 'gauge';
  valueType: 'int' | 'double';
  unit: string;
  requirementLevel: 'recommended' | 'opt_in' | 'unspecified';
  attributes: Record<string, SemconvAttribute>;
  everyScrape?: Record<string, string[]>;
}

interface HostmetricsFacts {
  metrics: Record<string, HostmetricsMetric>;
  resourceAttributes: { process: Record<string, { type: string; enabled: boolean }> };
}

interface SemconvFacts {
  metrics: Record<string, SemconvMetric>;
  resourceAttributes: Record<string, Record<string, { requirementLevel: string; type: string }>>;
}

export function loadFacts(): { hostmetrics: HostmetricsFacts; semconv: SemconvFacts } {
  const read = <T>(name: string): T => JSON.parse(readFileSync(join(FIXTURES, 'reference', name), 'utf8')) as T;
  return { hostmetrics: read<HostmetricsFacts>('hostmetrics.json'), semconv: read<SemconvFacts>('semconv.json') };
}

/** One metric as a profile's reference states it, in the terms the wire shows. */
export interface ExpectedMetric {
  /** Sent by default: on, off, or either (the reference states no level). */
  byDefault: 'on' | 'off' | 'either';
  unit: string;
  type: 'sum' | 'gauge';
  monotonic?: boolean;
  valueType: 'int' | 'double';
  /** Point attributes sent by default: key -> allowed values (null: any). */
  attributes: Map<string, { values: string[] | null }>;
  /** Attribute keys the reference allows only when asked for. */
  optInAttributes: Set<string>;
  everyScrape: Record<string, string[]>;
}

export interface ProfileFacts {
  metrics: Map<string, ExpectedMetric>;
  /** Resource attributes every process's resource carries by default. */
  processResource: string[];
  /** Process attributes the reference sends only when asked for. */
  processOptIn: string[];
}

export function profileFacts(profile: Profile): ProfileFacts {
  const facts = loadFacts();
  const metrics = new Map<string, ExpectedMetric>();
  if (profile === 'hostmetrics') {
    for (const [name, m] of Object.entries(facts.hostmetrics.metrics)) {
      metrics.set(name, {
        byDefault: m.enabled ? 'on' : 'off',
        unit: m.unit,
        type: m.type,
        monotonic: m.monotonic,
        valueType: m.valueType,
        attributes: new Map(Object.entries(m.attributes).map(([key, values]) => [key, { values }])),
        optInAttributes: new Set(),
        everyScrape: m.everyScrape ?? {},
      });
    }
    const resource = Object.entries(facts.hostmetrics.resourceAttributes.process);
    return {
      metrics,
      processResource: resource.filter(([, a]) => a.enabled).map(([key]) => key),
      processOptIn: resource.filter(([, a]) => !a.enabled).map(([key]) => key),
    };
  }
  for (const [name, m] of Object.entries(facts.semconv.metrics)) {
    const attributes = new Map<string, { values: string[] | null }>();
    const optIn = new Set<string>();
    for (const [key, a] of Object.entries(m.attributes)) {
      if (a.requirementLevel === 'opt_in') optIn.add(key);
      else attributes.set(key, { values: a.values !== undefined && a.open !== true ? a.values : null });
    }
    metrics.set(name, {
      byDefault: m.requirementLevel === 'recommended' ? 'on' : m.requirementLevel === 'opt_in' ? 'off' : 'either',
      unit: m.unit,
      type: m.instrument === 'gauge' ? 'gauge' : 'sum',
      monotonic: m.instrument === 'gauge' ? undefined : m.instrument === 'counter',
      valueType: m.valueType,
      attributes,
      optInAttributes: optIn,
      everyScrape: m.everyScrape ?? {},
    });
  }
  const entities = Object.values(facts.semconv.resourceAttributes).filter((group) => typeof group === 'object');
  const processAttributes = entities.flatMap((group) => Object.entries(group));
  return {
    metrics,
    processResource: processAttributes.filter(([, a]) => a.requirementLevel === 'required').map(([key]) => key),
    processOptIn: processAttributes.filter(([, a]) => a.requirementLevel === 'opt_in').map(([key]) => key),
  };
}

/** What the machine lacks, so that a default metric has nothing to report here. */
export interface MachineFacts {
  /** Names that have no points on this machine whatever the agent does (no swap area: paging usage). */
  nothingToReport: Set<string>;
  /** Host boot time, ms since the epoch. */
  bootTimeMs: number;
  /** File system types without a device (nodev in /proc/filesystems). */
  virtualFsTypes: Set<string>;
  /** pid -> Name of /proc/<pid>/status, for the processes reported. */
  statusName(pid: number): string | undefined;
}

// The agent's own telemetry (exports, buffer): not host metrics, in neither reference.
const SELF_METRICS_PREFIX = 'tfo_agent.';

function isProcessMetric(name: string): boolean {
  return name.startsWith('process.');
}

const FILESYSTEM_TYPE_KEY: Record<Profile, string> = { hostmetrics: 'type', semconv: 'system.filesystem.type' };

/**
 * Every difference between the points received and the profile's reference, one sentence each.
 * `requested` are metrics the config asked for beyond the defaults (allowed, and then expected).
 */
export function compareToReference(profile: Profile, points: readonly ReceivedPoint[], machine: MachineFacts, requested: readonly string[] = []): string[] {
  const facts = profileFacts(profile);
  const differences = new Set<string>();
  const byName = new Map<string, ReceivedPoint[]>();
  for (const point of points) {
    if (point.name.startsWith(SELF_METRICS_PREFIX)) continue;
    const list = byName.get(point.name) ?? [];
    list.push(point);
    byName.set(point.name, list);
  }
  for (const [name, expected] of facts.metrics) {
    const wanted = expected.byDefault === 'on' || requested.includes(name);
    if (wanted && !byName.has(name) && !machine.nothingToReport.has(name)) differences.add(`${name}: missing (sent by default in the reference)`);
  }
  for (const [name, received] of byName) {
    const expected = facts.metrics.get(name);
    if (expected === undefined) {
      differences.add(`${name}: sent by default, not in the reference`);
      continue;
    }
    if (expected.byDefault === 'off' && !requested.includes(name)) differences.add(`${name}: sent by default, opt-in in the reference`);
    const first = received[0];
    if (first.unit !== expected.unit) differences.add(`${name}: unit ${first.unit}, reference ${expected.unit}`);
    if (first.kind !== expected.type) differences.add(`${name}: ${first.kind}, reference ${expected.type}`);
    else if (first.kind === 'sum' && first.monotonic !== expected.monotonic) differences.add(`${name}: monotonic ${String(first.monotonic)}, reference ${String(expected.monotonic)}`);
    if (first.kind === 'sum' && first.temporality !== 'AGGREGATION_TEMPORALITY_CUMULATIVE') differences.add(`${name}: temporality ${String(first.temporality)}, reference cumulative`);
    const wrongType = received.filter((p) => (p.isInt === true ? 'int' : 'double') !== expected.valueType);
    if (wrongType.length > 0) differences.add(`${name}: value type ${expected.valueType === 'int' ? 'double' : 'int'}, reference ${expected.valueType}`);
    compareAttributes(name, received, expected, facts, differences);
  }
  compareProcessResources(profile, points, facts, machine, differences);
  compareStartTimes(profile, points, machine, differences);
  const fsKey = FILESYSTEM_TYPE_KEY[profile];
  const virtual = points.some((p) => p.name.startsWith('system.filesystem.') && machine.virtualFsTypes.has(String(p.attributes[fsKey])));
  if (virtual) differences.add('system.filesystem.*: file systems without a device (nodev types such as tmpfs) reported by default');
  return [...differences].sort();
}

function compareAttributes(name: string, received: ReceivedPoint[], expected: ExpectedMetric, facts: ProfileFacts, differences: Set<string>): void {
  const processIdentity = new Set([...facts.processResource, ...facts.processOptIn, 'process.executable.name', 'process.executable.path', 'process.command', 'process.command_line', 'process.owner', 'process.parent_pid', 'process.pid', 'process.creation.time']);
  const seenValues = new Map<string, Set<string>>();
  for (const point of received) {
    for (const [key, value] of Object.entries(point.attributes)) {
      if (isProcessMetric(name) && processIdentity.has(key)) continue; // judged with the resource
      if (expected.optInAttributes.has(key)) {
        differences.add(`${name}: opt-in attribute ${key} sent by default`);
        continue;
      }
      const spec = expected.attributes.get(key);
      if (spec === undefined) {
        differences.add(`${name}: attribute ${key} not in the reference`);
        continue;
      }
      const text = String(value);
      if (spec.values !== null && !spec.values.includes(text)) differences.add(`${name}: ${key}=${text} not a value of the reference`);
      const seen = seenValues.get(key) ?? new Set<string>();
      seen.add(text);
      seenValues.set(key, seen);
    }
    for (const key of expected.attributes.keys()) {
      if (!(key in point.attributes)) differences.add(`${name}: attribute ${key} missing`);
    }
  }
  for (const [key, values] of Object.entries(expected.everyScrape)) {
    const missing = values.filter((v) => !seenValues.get(key)?.has(v));
    if (missing.length > 0) differences.add(`${name}: ${key} lacks ${missing.join(', ')}`);
  }
}

function compareProcessResources(profile: Profile, points: readonly ReceivedPoint[], facts: ProfileFacts, machine: MachineFacts, differences: Set<string>): void {
  const processPoints = points.filter((p) => isProcessMetric(p.name));
  if (processPoints.length === 0) return;
  for (const key of facts.processResource) {
    if (processPoints.some((p) => !(key in p.resource))) differences.add(`process.*: resource attribute ${key} missing (one resource per process)`);
  }
  for (const key of facts.processOptIn) {
    if (processPoints.some((p) => key in p.resource || key in p.attributes)) differences.add(`process.*: opt-in attribute ${key} sent by default`);
  }
  if (profile === 'hostmetrics') {
    const identity = processPoints.find((p) => typeof p.attributes['process.pid'] === 'number' || typeof p.resource['process.pid'] === 'number');
    if (identity !== undefined) {
      const attrs = { ...identity.attributes, ...identity.resource };
      const statusName = machine.statusName(Number(attrs['process.pid']));
      if (statusName !== undefined && attrs['process.executable.name'] !== statusName) {
        differences.add('process.*: process.executable.name is not the Name of /proc/<pid>/status');
      }
    }
  }
}

// The Collector starts every cumulative series of the system scrapers at boot time.
const BOOT_TIME_SLACK_MS = 2_000;

function compareStartTimes(profile: Profile, points: readonly ReceivedPoint[], machine: MachineFacts, differences: Set<string>): void {
  if (profile !== 'hostmetrics') return;
  const sums = points.filter((p) => p.kind === 'sum' && !isProcessMetric(p.name) && p.name.startsWith('system.'));
  const late = sums.filter((p) => Math.abs(Number(p.startTimeUnixNano / 1_000_000n) - machine.bootTimeMs) > BOOT_TIME_SLACK_MS);
  if (late.length > 0) differences.add('system.*: cumulative sums do not start at boot time');
}
