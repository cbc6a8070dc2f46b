// The agent's host metrics in collectd's own vocabulary: for each exported metric (under either
// naming profile) the collectd plugin, type and instances its own read plugins (cpu, memory, swap,
// vmem, load, disk, interface, df, processes, uptime, contextswitch, entropy, fhcount, cpufreq,
// tcpconns) would file the same value under, so a collectd server stores it beside its agents'.
// Pure: a batch in, value lists out.
import type { Attributes, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Identity, ValueList } from '../../receiver/collectd/decode';
import type { TypesDb } from '../../receiver/collectd/types-db';

/** /proc/stat's USER_HZ: collectd's cpu plugin reports jiffies, the agent seconds. */
const JIFFIES_PER_SECOND = 100;

/** Where one point goes: a value list's identity and one of its type's data sources. */
export interface Slot extends Omit<Identity, 'host'> {
  /** The data source's name in types.db; `value` for the single-source types. */
  ds: string;
  value: number;
  /** Points landing on the same data source add up (swap over its devices) instead of being one. */
  sum?: boolean;
}

type Rule = (value: number, attrs: Attributes) => Slot | undefined;

/** The first of the keys the point has (semconv key, then the hostmetrics profile's bare one). */
function attr(attrs: Attributes, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = attrs[key];
    if (value !== undefined && value !== null) return String(value);
  }
  return undefined;
}

const slot = (plugin: string, pluginInstance: string, type: string, typeInstance: string, value: number, ds = 'value'): Slot => ({ plugin, pluginInstance, type, typeInstance, ds, value });

/** The cpu plugin's state names: `wait` for iowait (hostmetrics already says `wait`). */
function cpuState(attrs: Attributes): string | undefined {
  const mode = attr(attrs, 'cpu.mode', 'state');
  return mode === 'iowait' ? 'wait' : mode;
}

/** A logical CPU's number: semconv gives 3, hostmetrics `cpu3`; absent for the whole machine. */
function cpuNumber(attrs: Attributes): string {
  return (attr(attrs, 'cpu.logical_number', 'cpu') ?? '').replace(/^cpu/, '');
}

const MEMORY_STATES: Readonly<Record<string, string>> = {
  buffers: 'buffered', slab_reclaimable: 'slab_recl', slab_unreclaimable: 'slab_unrecl', reclaimable: 'slab_recl', unreclaimable: 'slab_unrecl',
};
const memoryState = (attrs: Attributes, ...keys: string[]): string | undefined => {
  const state = attr(attrs, ...keys);
  return state === undefined ? undefined : (MEMORY_STATES[state] ?? state);
};

/** rx/tx for the interface plugin, read/write for disk: from either profile's direction. */
function direction(attrs: Attributes, receive: string, transmit: string): string | undefined {
  const value = attr(attrs, 'network.io.direction', 'disk.io.direction', 'direction');
  if (value === 'receive' || value === 'read') return receive;
  if (value === 'transmit' || value === 'write') return transmit;
  return undefined;
}

/** df's plugin instance for a mount point, as collectd names it: `/` is `root`, `/var/log` is `var-log`. */
export function dfInstance(mountpoint: string): string {
  return mountpoint === '/' ? 'root' : mountpoint.replace(/^\//, '').replace(/\//g, '-');
}

/** The tcpconns plugin's state names (the kernel's tcp_states.h). */
const TCP_STATES: Readonly<Record<string, string>> = {
  established: 'ESTABLISHED', syn_sent: 'SYN_SENT', syn_received: 'SYN_RECV', fin_wait_1: 'FIN_WAIT1', fin_wait_2: 'FIN_WAIT2',
  time_wait: 'TIME_WAIT', closed: 'CLOSED', close_wait: 'CLOSE_WAIT', last_ack: 'LAST_ACK', listen: 'LISTEN', closing: 'CLOSING', CLOSE: 'CLOSED',
};

const PROCESS_STATES: Readonly<Record<string, string>> = { defunct: 'zombies' };

function interfaceRule(type: string): Rule {
  return (value, a) => {
    const ds = direction(a, 'rx', 'tx');
    // semconv names the interface system.device on packet counts.
    const name = attr(a, 'network.interface.name', 'system.device', 'device');
    return ds && name ? slot('interface', name, type, '', value, ds) : undefined;
  };
}

function diskRule(type: string): Rule {
  return (value, a) => {
    const ds = direction(a, 'read', 'write');
    const device = attr(a, 'system.device', 'device');
    return ds && device ? slot('disk', device, type, '', value, ds) : undefined;
  };
}

function filesystemRule(type: string): Rule {
  return (value, a) => {
    const mountpoint = attr(a, 'system.filesystem.mountpoint', 'mountpoint');
    const state = attr(a, 'system.filesystem.state', 'state');
    return mountpoint && state ? slot('df', dfInstance(mountpoint), type, state, value) : undefined;
  };
}

const loadRule = (ds: string): Rule => (value) => slot('load', '', 'load', '', value, ds);

/**
 * Each rule by metric name, both profiles' names. Counters are cumulative: they go as DERIVE
 * (collectd's rate types) in collectd's units, gauges and up-down counters as GAUGE.
 */
export const VOCABULARY: Readonly<Record<string, Rule>> = {
  // cpu plugin: `cpu-N/cpu-STATE` jiffies per logical CPU; `cpu/cpu-STATE` for the whole machine;
  // `cpu/percent-STATE` as with ValuesPercentage; `cpu/count` as with ReportNumCpu.
  'system.cpu.time': (value, a) => {
    const state = cpuState(a);
    return state ? slot('cpu', cpuNumber(a), 'cpu', state, Math.round(value * JIFFIES_PER_SECOND)) : undefined;
  },
  'system.cpu.utilization': (value, a) => {
    const state = cpuState(a);
    return state ? slot('cpu', cpuNumber(a), 'percent', state, value * 100) : undefined;
  },
  'system.cpu.logical.count': (value) => slot('cpu', '', 'count', '', value),
  // cpufreq plugin: `cpufreq/cpufreq-N` in Hz.
  'system.cpu.frequency': (value, a) => slot('cpufreq', '', 'cpufreq', cpuNumber(a), value),
  'system.cpu.load_average.1m': loadRule('shortterm'),
  'system.cpu.load_average.5m': loadRule('midterm'),
  'system.cpu.load_average.15m': loadRule('longterm'),
  // memory plugin: `memory/memory-STATE` bytes, `memory/percent-STATE`.
  'system.memory.usage': (value, a) => {
    const state = memoryState(a, 'system.memory.state', 'state');
    return state ? slot('memory', '', 'memory', state, value) : undefined;
  },
  'system.memory.utilization': (value, a) => {
    const state = memoryState(a, 'system.memory.state', 'state');
    return state ? slot('memory', '', 'percent', state, value * 100) : undefined;
  },
  'system.memory.linux.slab.usage': (value, a) => {
    const state = memoryState(a, 'system.memory.linux.slab.state');
    return state ? slot('memory', '', 'memory', state, value) : undefined;
  },
  'system.memory.linux.available': (value) => slot('memory', '', 'memory', 'available', value),
  'system.linux.memory.available': (value) => slot('memory', '', 'memory', 'available', value),
  // swap plugin: `swap/swap-STATE` bytes over all devices (its default), `swap/swap_io-in|out`
  // pages swapped; vmem plugin: `vmem/vmpage_io-memory` pages paged, `vmem/vmpage_faults`.
  'system.paging.usage': (value, a) => {
    const state = attr(a, 'system.paging.state', 'state');
    return state ? { ...slot('swap', '', 'swap', state, value), sum: true } : undefined;
  },
  'system.paging.operations': (value, a) => {
    const way = attr(a, 'system.paging.direction', 'direction');
    const ds = way === 'in' || way === 'page_in' ? 'in' : way === 'out' || way === 'page_out' ? 'out' : undefined;
    const type = attr(a, 'system.paging.fault.type', 'type');
    if (ds === undefined) return undefined;
    if (type === 'major') return slot('swap', '', 'swap_io', ds, value);
    return type === 'minor' ? slot('vmem', '', 'vmpage_io', 'memory', value, ds) : undefined;
  },
  'system.paging.faults': (value, a) => {
    const type = attr(a, 'system.paging.fault.type', 'type');
    return type === 'major' || type === 'minor' ? slot('vmem', '', 'vmpage_faults', '', value, type === 'major' ? 'majflt' : 'minflt') : undefined;
  },
  // disk plugin: `disk-DEV/disk_octets|disk_ops|disk_merged` (read, write), `disk_io_time`
  // (io_time, weighted_io_time in ms: both or none), `pending_operations`.
  'system.disk.io': diskRule('disk_octets'),
  'system.disk.operations': diskRule('disk_ops'),
  'system.disk.merged': diskRule('disk_merged'),
  'system.disk.io_time': (value, a) => {
    const device = attr(a, 'system.device', 'device');
    return device ? slot('disk', device, 'disk_io_time', '', Math.round(value * 1000), 'io_time') : undefined;
  },
  'system.disk.weighted_io_time': (value, a) => {
    const device = attr(a, 'device');
    return device ? slot('disk', device, 'disk_io_time', '', Math.round(value * 1000), 'weighted_io_time') : undefined;
  },
  'system.disk.pending_operations': (value, a) => {
    const device = attr(a, 'device');
    return device ? slot('disk', device, 'pending_operations', '', value) : undefined;
  },
  // interface plugin: `interface-NAME/if_octets|if_packets|if_errors|if_dropped` (rx, tx).
  'system.network.io': interfaceRule('if_octets'),
  'system.network.packet.count': interfaceRule('if_packets'),
  'system.network.packets': interfaceRule('if_packets'),
  'system.network.errors': interfaceRule('if_errors'),
  'system.network.packet.dropped': interfaceRule('if_dropped'),
  'system.network.dropped': interfaceRule('if_dropped'),
  // tcpconns plugin with AllPortsSummary: `tcpconns-all/tcp_connections-STATE`.
  'system.network.connection.count': (value, a) => tcpRule(value, a),
  'system.network.connections': (value, a) => tcpRule(value, a),
  // df plugin: `df-MOUNT/df_complex-STATE` bytes, `df_inodes-STATE`.
  'system.filesystem.usage': filesystemRule('df_complex'),
  'system.filesystem.inodes.usage': filesystemRule('df_inodes'),
  // processes plugin: `processes/ps_state-STATE`, `processes/fork_rate`.
  'system.process.count': (value, a) => processesRule(value, a),
  'system.processes.count': (value, a) => processesRule(value, a),
  'system.process.created': (value) => slot('processes', '', 'fork_rate', '', value),
  'system.processes.created': (value) => slot('processes', '', 'fork_rate', '', value),
  'system.uptime': (value) => slot('uptime', '', 'uptime', '', value),
  'system.linux.context_switch.count': (value) => slot('contextswitch', '', 'contextswitch', '', value),
  'system.linux.entropy.available': (value) => slot('entropy', '', 'entropy', '', value),
  // fhcount plugin: `fhcount/file_handles-used|max`.
  'system.linux.file_descriptor.count': (value) => slot('fhcount', '', 'file_handles', 'used', value),
  'system.linux.file_descriptor.limit': (value) => slot('fhcount', '', 'file_handles', 'max', value),
};

function tcpRule(value: number, a: Attributes): Slot | undefined {
  const state = attr(a, 'network.connection.state', 'state');
  const name = state === undefined ? undefined : (TCP_STATES[state] ?? state);
  return name ? slot('tcpconns', 'all', 'tcp_connections', name, value) : undefined;
}

function processesRule(value: number, a: Attributes): Slot | undefined {
  const state = attr(a, 'process.state', 'status');
  return state ? slot('processes', '', 'ps_state', PROCESS_STATES[state] ?? state, value) : undefined;
}

/** Points of a kind collectd can take: gauges and sums, counters only cumulative. */
function sendable(metric: MetricData): boolean {
  if (metric.dataPointType === DataPointType.GAUGE) return true;
  return metric.dataPointType === DataPointType.SUM && metric.aggregationTemporality === AggregationTemporality.CUMULATIVE;
}

interface Pending {
  identity: Omit<Identity, 'host'>;
  time: HrTime;
  values: Map<string, number>;
}

const later = (a: HrTime, b: HrTime): HrTime => (a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]) ? a : b);

/**
 * The batch's host metrics as collectd value lists of `host`, stamped with each point's time.
 * A value list goes out only when every data source of its type (types.db) has a value; points
 * with no collectd counterpart are left out.
 */
export function toValueLists(batch: ResourceMetrics, host: string, intervalMs: number, types: TypesDb): ValueList[] {
  const pending = new Map<string, Pending>();
  for (const scope of batch.scopeMetrics) {
    for (const metric of scope.metrics) {
      const rule = VOCABULARY[metric.descriptor.name];
      if (rule === undefined || !sendable(metric)) continue;
      for (const point of metric.dataPoints) {
        if (typeof point.value !== 'number' || !Number.isFinite(point.value)) continue;
        const target = rule(point.value, point.attributes);
        if (target === undefined) continue;
        const { ds, value, sum, ...identity } = target;
        const key = `${identity.plugin}\u0000${identity.pluginInstance}\u0000${identity.type}\u0000${identity.typeInstance}`;
        let entry = pending.get(key);
        if (entry === undefined) {
          entry = { identity, time: point.endTime, values: new Map() };
          pending.set(key, entry);
        }
        entry.time = later(entry.time, point.endTime);
        entry.values.set(ds, sum === true ? (entry.values.get(ds) ?? 0) + value : value);
      }
    }
  }
  const out: ValueList[] = [];
  for (const { identity, time, values } of pending.values()) {
    const sources = types.get(identity.type);
    if (sources === undefined || sources.some((s) => !values.has(s.name))) continue;
    out.push({
      host, ...identity, time, intervalMs,
      kinds: sources.map((s) => s.kind),
      // DERIVE and COUNTER are integers on the wire.
      values: sources.map((s) => (s.kind === 'gauge' ? (values.get(s.name) as number) : Math.round(values.get(s.name) as number))),
    });
  }
  return out;
}
