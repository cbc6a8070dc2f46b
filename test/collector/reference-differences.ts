// Where the agent's export differs from the pinned reference facts (reference.test.ts), in the
// words of compareToReference.
//
// DEVIATIONS are kept on purpose; docs/METRICS.md names each and says why. KNOWN_DIFFERENCES are
// defects still to be fixed (issue 17): the list only shrinks.
import type { Profile } from './reference-compare';

export interface KnownDifference {
  profile: Profile;
  difference: string;
}

export interface Difference extends KnownDifference {
  /** Why the agent keeps it (also in docs/METRICS.md). */
  reason: string;
}

const EXTENSION = 'tfo-agent extension (docs/METRICS.md, "tfo-agent extensions"): a Linux kernel counter neither reference defines, under the system.linux.* names.';
const LOAD_AVERAGE = 'The conventions define no load average; the Collector\'s names are the de-facto standard and both profiles use them (docs/METRICS.md, "load").';
const CONNECTION_INTERFACE = 'The kernel\'s TCP tables (/proc/net/tcp, tcp6) name no interface per socket, and a listening socket on a wildcard address belongs to none; the conventions make the attribute recommended, set where available (docs/METRICS.md, "network").';
const PROCESS_NETWORK = 'Linux keeps no network byte counters per process: /proc/<pid>/net/dev is the network namespace\'s, shared by every process in it (docs/METRICS.md, "process").';

export const DEVIATIONS: Difference[] = [
  { profile: 'hostmetrics', difference: 'system.linux.context_switch.count: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'hostmetrics', difference: 'system.linux.entropy.available: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'hostmetrics', difference: 'system.linux.file_descriptor.count: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'hostmetrics', difference: 'system.linux.file_descriptor.limit: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'hostmetrics', difference: 'system.linux.interrupt.count: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'hostmetrics', difference: 'system.linux.pressure.stall_time: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'semconv', difference: 'process.network.io: missing (sent by default in the reference)', reason: PROCESS_NETWORK },
  { profile: 'semconv', difference: 'system.network.connection.count: attribute network.interface.name missing', reason: CONNECTION_INTERFACE },
  { profile: 'semconv', difference: 'system.cpu.load_average.15m: sent by default, not in the reference', reason: LOAD_AVERAGE },
  { profile: 'semconv', difference: 'system.cpu.load_average.1m: sent by default, not in the reference', reason: LOAD_AVERAGE },
  { profile: 'semconv', difference: 'system.cpu.load_average.5m: sent by default, not in the reference', reason: LOAD_AVERAGE },
  { profile: 'semconv', difference: 'system.linux.context_switch.count: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'semconv', difference: 'system.linux.entropy.available: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'semconv', difference: 'system.linux.file_descriptor.count: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'semconv', difference: 'system.linux.file_descriptor.limit: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'semconv', difference: 'system.linux.interrupt.count: sent by default, not in the reference', reason: EXTENSION },
  { profile: 'semconv', difference: 'system.linux.pressure.stall_time: sent by default, not in the reference', reason: EXTENSION },
];

export const KNOWN_DIFFERENCES: KnownDifference[] = [
];
