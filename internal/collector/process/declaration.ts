import type { ProcessCollectorConfig } from '../../config/types';
import { HOSTMETRICS_ONLY, ON, SEMCONV_ONLY, type AttributeDecl, type Family, type Metrics } from '../declaration';

// The identity of the process, which the collector puts on every point and the export moves to
// the resource: one resource per process, as both references have it. The conventions make the
// parent pid, the executable's path and the command line opt-in (a command line can hold
// secrets); the Collector sends them by default. process.creation.time, with the pid the
// process's identity in the conventions, is not in the Collector's set.
export const PROCESS = {
  'process.pid': { int: true, resource: true },
  'process.creation.time': { resource: true, profiles: ['semconv'] },
  'process.executable.build_id.htlhash': { resource: true, profiles: ['semconv'] },
  'process.parent_pid': { int: true, resource: true, when: 'collectors.process.include_parent_pid', default: HOSTMETRICS_ONLY },
  'process.executable.name': { resource: true },
  'process.owner': { resource: true },
  'process.executable.path': { resource: true, when: 'collectors.process.include_executable_path', default: HOSTMETRICS_ONLY },
  'process.command': { resource: true },
  'process.command_line': { resource: true, when: 'collectors.process.include_command_line', default: HOSTMETRICS_ONLY },
} as const satisfies Readonly<Record<string, AttributeDecl>>;

export const metrics = {
  cpuTime: { semconv: 'process.cpu.time', hostmetrics: 'process.cpu.time', kind: 'counter', unit: 's', value: 'double', description: 'CPU time used by the process, by mode; wait is the time it waited for block I/O (delay accounting).', attributes: { ...PROCESS, 'cpu.mode': { values: ['user', 'system', 'wait'] } }, default: ON },
  memoryUsage: { semconv: 'process.memory.usage', hostmetrics: 'process.memory.usage', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Resident memory of the process (RSS).', attributes: PROCESS, default: ON },
  memoryVirtual: { semconv: 'process.memory.virtual', hostmetrics: 'process.memory.virtual', kind: 'updowncounter', unit: 'By', value: 'int', description: 'Virtual memory of the process.', attributes: PROCESS, default: ON },
  diskIo: { semconv: 'process.disk.io', hostmetrics: 'process.disk.io', kind: 'counter', unit: 'By', value: 'int', description: 'Bytes the process read from and wrote to storage.', attributes: { ...PROCESS, 'disk.io.direction': { values: ['read', 'write'] } }, default: ON },
  threads: { semconv: 'process.thread.count', hostmetrics: 'process.threads', kind: 'updowncounter', unit: '{thread}', value: 'int', description: 'Threads of the process.', attributes: PROCESS, default: SEMCONV_ONLY },
  fds: { semconv: 'process.unix.file_descriptor.count', hostmetrics: 'process.open_file_descriptors', kind: 'updowncounter', unit: '{file_descriptor}', value: 'int', description: 'Open file descriptors of the process.', attributes: PROCESS, default: SEMCONV_ONLY },
  contextSwitches: { semconv: 'process.context_switches', hostmetrics: 'process.context_switches', kind: 'counter', unit: { semconv: '{context_switch}', hostmetrics: '{count}' }, value: 'int', description: 'Times the process gave up the CPU to wait (voluntary) or was preempted (involuntary).', attributes: { ...PROCESS, 'process.context_switch.type': { values: ['voluntary', 'involuntary'] } }, default: SEMCONV_ONLY },
  pagingFaults: { semconv: 'process.paging.faults', hostmetrics: 'process.paging.faults', kind: 'counter', unit: { semconv: '{fault}', hostmetrics: '{faults}' }, value: 'int', description: 'Page faults of the process: minor (no disk read) and major.', attributes: { ...PROCESS, 'system.paging.fault.type': { values: ['minor', 'major'] } }, default: SEMCONV_ONLY },
  uptime: { semconv: 'process.uptime', hostmetrics: 'process.uptime', kind: 'gauge', unit: 's', value: 'double', description: 'Time since the process started.', attributes: PROCESS, default: SEMCONV_ONLY },
} as const satisfies Metrics;

export type ProcessSettings = ProcessCollectorConfig & {
  /** collectors.system.interval: the cycle the process family's own interval is counted in. */
  system_interval: number;
};

export const family: Family<typeof metrics, ProcessSettings> = {
  name: 'process',
  metrics,
  section: 'process',
  switch: 'collectors.process.enabled',
  enabled: (config) => config.collectors.process.enabled,
  settingsKey: 'collectors.process',
  settings: (config) => ({ ...config.collectors.process, system_interval: config.collectors.system.interval }),
  sources: '/proc/<pid>/{stat,statm,status,io,fd,exe,cmdline}, the executable (head and tail, once per file), /proc/stat (boot time), /etc/passwd',
};
