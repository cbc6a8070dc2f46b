import { readFileSync } from 'node:fs';
import { posix as path } from 'node:path';
import type { Attributes, BatchObservableResult, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { collectorFactory, type Collector, type FamilyContext } from '../collector';
import { attributeOn, int, type Observation } from '../declaration';
import { PatternList } from '../match';
import type { MetricSink } from '../naming';
import { readPasswd } from '../../procfs/passwd';
import { readStat, USER_HZ } from '../../procfs/stat';
import {
  countPidFds, isProcfs, listPids, pageSizeFrom, parsePidIo, parsePidStat, parsePidStatm, parsePidStatus, PidFile, readCmdline, readExecutablePath,
  readPidIo, readPidStat, readPidStatm, readPidStatus, type PidIo, type PidStat, type PidStatm, type PidStatus,
} from '../../procfs/pid';
import { FailureStreak } from '../../log/streak';
import { family, metrics, PROCESS, type ProcessSettings } from './declaration';
import { ExecutableHashes } from './htlhash';
import { parsePrivilege, Unreadable, type Privilege } from './unreadable';

/** One sample of a process, from whichever backend read it. */
export interface ProcessSample {
  userSeconds: number;
  systemSeconds: number;
  /** Time spent waiting for block I/O (the Collector's wait state on Linux). */
  waitSeconds: number;
  rssBytes: number;
  virtualBytes: number;
  threads: number;
  minorFaults: number;
  majorFaults: number;
  /** Seconds since the process started. */
  uptimeSeconds: number;
  io?: PidIo;
  fds?: number;
  voluntaryContextSwitches?: number;
  involuntaryContextSwitches?: number;
}

// The attributes a point carries beside the process's own, one object each so that the merged
// sets can be kept per process rather than rebuilt every cycle.
const USER = { 'cpu.mode': 'user' } as const;
const SYSTEM = { 'cpu.mode': 'system' } as const;
const WAIT = { 'cpu.mode': 'wait' } as const;
const READ = { 'disk.io.direction': 'read' } as const;
const WRITE = { 'disk.io.direction': 'write' } as const;
const VOLUNTARY = { 'process.context_switch.type': 'voluntary' } as const;
const INVOLUNTARY = { 'process.context_switch.type': 'involuntary' } as const;
const MINOR = { 'system.paging.fault.type': 'minor' } as const;
const MAJOR = { 'system.paging.fault.type': 'major' } as const;
const NO_EXTRA = {} as const;
type PointExtra =
  | typeof USER | typeof SYSTEM | typeof WAIT | typeof READ | typeof WRITE
  | typeof VOLUNTARY | typeof INVOLUNTARY | typeof MINOR | typeof MAJOR | typeof NO_EXTRA;

/** The points of one process sample, attributes beside the process's own in semconv keys. */
export function processPoints(s: ProcessSample): Array<Observation<typeof metrics, PointExtra>> {
  const points: Array<Observation<typeof metrics, PointExtra>> = [
    ['cpuTime', s.userSeconds, USER],
    ['cpuTime', s.systemSeconds, SYSTEM],
    ['cpuTime', s.waitSeconds, WAIT],
    ['memoryUsage', int(s.rssBytes), NO_EXTRA],
    ['memoryVirtual', int(s.virtualBytes), NO_EXTRA],
    ['threads', int(s.threads), NO_EXTRA],
    ['pagingFaults', int(s.minorFaults), MINOR],
    ['pagingFaults', int(s.majorFaults), MAJOR],
    ['uptime', s.uptimeSeconds, NO_EXTRA],
  ];
  if (s.io !== undefined) points.push(['diskIo', int(s.io.readBytes), READ], ['diskIo', int(s.io.writeBytes), WRITE]);
  if (s.fds !== undefined) points.push(['fds', int(s.fds), NO_EXTRA]);
  if (s.voluntaryContextSwitches !== undefined) points.push(['contextSwitches', int(s.voluntaryContextSwitches), VOLUNTARY]);
  if (s.involuntaryContextSwitches !== undefined) points.push(['contextSwitches', int(s.involuntaryContextSwitches), INVOLUNTARY]);
  return points;
}

/** What a process is, read once per process (pid and start time), not every cycle. */
interface ProcessDetails {
  executableName: string;
  /** Every name it goes by, for collectors.process.processes: the reported one, comm, comm completed. */
  names: string[];
  executablePath?: string;
  /** process.executable.build_id.htlhash, under semconv. */
  buildId?: string;
  command?: string;
  commandLine?: string;
}

/** A process as this collector knows it between cycles. */
interface Known {
  startTicks: number;
  /** The name when last described: exec(2) keeps pid and start time but changes it. */
  comm: string;
  kernelThread: boolean;
  /** Whether it matches collectors.process.processes (decided once per process). */
  byName: boolean;
  details?: ProcessDetails;
  owner?: string;
  /** CPU seconds at the previous cycle, for top-N by CPU. */
  cpuSeconds?: number;
  /** Its points' attribute sets, built for this parent pid (a process can be re-parented). */
  attributes?: { parentPid: number; byExtra: Map<PointExtra, Attributes> };
  /** When the process started (epoch ms, and as the start time of its cumulative series). */
  started?: { ms: number; time: HrTime };
  /** Its stat and io files, kept open once it has been reported. */
  files?: KeptFiles;
}

interface KeptFiles {
  stat: PidFile;
  /** The exact resident set (stat's is an approximation since Linux 6.2), unless status is kept. */
  statm?: PidFile;
  /** Absent when io could not be opened (another user's process): then it is read by path. */
  io?: PidFile;
  /** Kept when it is read every cycle (its context switches). */
  status?: PidFile;
}

/** Processes skipped since the start, by reason; exposed for tests and self-metrics. */
export interface ProcessSkips {
  /** Gone between listing /proc and reading its files: normal churn. */
  exited: number;
  /** stat or status not readable: the process is skipped. */
  unreadable: number;
  /** io not readable (another user's process without privileges): process.disk.io skipped. */
  ioUnreadable: number;
  /** fd not readable: the descriptor count skipped. */
  fdsUnreadable: number;
}

const TRUNCATED_COMM = 15;
// Processes that matched no name are not re-read every cycle; this often they are, so a pid
// reused by a matching program is found.
const RECHECK_EVERY_CYCLES = 10;
const PASSWD_RELOAD_MS = 60_000;
// Reported processes whose files stay open (up to three descriptors each); more are read by path.
const MAX_KEPT_PROCESSES = 256;

function ownPrivilege(): Privilege | undefined {
  try {
    return parsePrivilege(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return undefined;
  }
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/**
 * Per-process metrics for the processes selected by name or /regex/ (executable name, path or
 * command line), and/or the top N by CPU (since the previous cycle) or resident memory. With
 * neither configured every user-space process is reported. Kernel threads never are.
 */
export class ProcessCollector implements Collector<typeof metrics> {
  readonly name = family.name;
  readonly metrics = metrics;
  // Hundreds of series a cycle, each already cumulative, each starting with its process.
  readonly direct = true;
  readonly skipped: ProcessSkips = { exited: 0, unreadable: 0, ioUnreadable: 0, fdsUnreadable: 0 };
  /** The pids reported by the last cycle that read processes. */
  reported: number[] = [];
  private readonly patterns: PatternList;
  private readonly known = new Map<number, Known>();
  private readonly streak: FailureStreak;
  private users = new Map<number, string>();
  private usersLoadedAt = Number.NEGATIVE_INFINITY;
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private cycles = 0;
  // Learnt once, so that a known process costs no status read per cycle: statm gives its RSS in pages.
  private pageSize: number | undefined;
  private keptProcesses = 0;
  /** Whether /proc is the kernel's: only then are files kept open and fds counted by stat. */
  private procfs: boolean | undefined;
  /** Boot time, epoch seconds, that process start times count from; null when /proc/stat cannot be read. */
  private bootTime: number | null | undefined;
  private readonly hashes = new ExecutableHashes();
  /** This agent's own uid and CAP_SYS_PTRACE, for the reason a file was refused. */
  private readonly privilege = ownPrivilege();
  /** The opt-in attributes reported, by the settings or else the profile. */
  private readonly include: { parentPid: boolean; executablePath: boolean; commandLine: boolean };

  constructor(private readonly ctx: FamilyContext<ProcessSettings>) {
    this.patterns = new PatternList('collectors.process.processes', ctx.settings.processes);
    const { settings, naming } = ctx;
    this.include = {
      parentPid: attributeOn(PROCESS['process.parent_pid'], settings.include_parent_pid, naming),
      executablePath: attributeOn(PROCESS['process.executable.path'], settings.include_executable_path, naming),
      commandLine: attributeOn(PROCESS['process.command_line'], settings.include_command_line, naming),
    };
    this.streak = new FailureStreak(ctx.logger, 'collector.process.read', () => ctx.clock.now());
  }

  close(): void {
    for (const pid of [...this.known.keys()]) this.forget(pid);
  }

  private get options(): ProcessSettings {
    return this.ctx.settings;
  }

  /**
   * The batch callback runs every system interval; process metrics are read on the first cycle
   * at least collectors.process.interval after the last (within half a system interval).
   */
  due(): boolean {
    const slack = this.options.system_interval / 2;
    return this.ctx.clock.monotonic() - this.lastRunAt >= this.options.interval - slack;
  }

  async collect(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>): Promise<void> {
    this.procfs ??= isProcfs(this.ctx.host);
    if (this.bootTime === undefined) this.bootTime = await readStat(this.ctx.host).then((stat) => stat.bootTime, () => null);
    this.lastRunAt = this.ctx.clock.monotonic();
    this.cycles += 1;
    const unreadable = new Unreadable();
    const reported: number[] = [];
    for (const [pid, stat, known] of await this.select(unreadable)) {
      if (await this.report(result, out, pid, stat, known, unreadable)) reported.push(pid);
    }
    this.reported = reported;
    if (!unreadable.empty) {
      this.streak.failure(unreadable.describe(this.privilege), { skipped: { ...this.skipped } });
    } else {
      this.streak.success();
    }
  }

  /** The processes to report this cycle, with their stat. */
  private async select(unreadable: Unreadable): Promise<Array<[number, PidStat, Known]>> {
    const { top_n: topN, processes } = this.options;
    const everyProcess = processes.length === 0 && topN === 0;
    const readAll = everyProcess || topN > 0 || this.cycles % RECHECK_EVERY_CYCLES === 0;
    const pids = await listPids(this.ctx.host);
    const alive = new Set(pids);
    for (const pid of [...this.known.keys()]) if (!alive.has(pid)) this.forget(pid);

    const candidates: Array<[number, PidStat, Known]> = [];
    for (const pid of pids) {
      const known = this.known.get(pid);
      if (!readAll && known !== undefined && !known.byName) continue;
      let stat: PidStat;
      try {
        stat = this.readStat(pid, known);
      } catch (err) {
        this.countFailure(err, 'stat', pid, unreadable);
        this.forget(pid);
        continue;
      }
      // A pid whose start time changed is another process, and one whose name changed has run
      // another program: forget everything about the old one.
      const same = known !== undefined && known.startTicks === stat.startTicks && known.comm === stat.comm;
      let current = same ? known : undefined;
      if (current === undefined) {
        if (known !== undefined) this.closeFiles(known);
        current = { startTicks: stat.startTicks, comm: stat.comm, kernelThread: stat.kernelThread, byName: false };
        if (!stat.kernelThread && !this.patterns.empty) {
          current.details = await this.describe(pid, stat.comm);
          const { names, executablePath, commandLine } = current.details;
          current.byName = this.patterns.matches(...names, executablePath ?? '', commandLine ?? '');
        }
        this.known.set(pid, current);
      }
      if (!current.kernelThread) candidates.push([pid, stat, current]);
    }

    const chosen = new Set(candidates.filter(([, , k]) => everyProcess || k.byName));
    if (topN > 0) {
      const score = ([, stat, k]: [number, PidStat, Known]): number =>
        this.options.top_by === 'memory' ? stat.rssPages : stat.userSeconds + stat.systemSeconds - (k.cpuSeconds ?? 0);
      const ranked = [...candidates].sort((a, b) => score(b) - score(a));
      for (const candidate of ranked.slice(0, topN)) chosen.add(candidate);
    }
    for (const [, stat, k] of candidates) k.cpuSeconds = stat.userSeconds + stat.systemSeconds;
    return [...chosen];
  }

  /** Through the kept handle while the process it was opened for lives, otherwise by path. */
  private readStat(pid: number, known: Known | undefined): PidStat {
    if (known?.files !== undefined) {
      try {
        return parsePidStat(known.files.stat.read(), `/proc/${pid}/stat`);
      } catch (err) {
        if (!isGone(err)) throw err;
        // That process exited; the pid may already be another's.
        this.closeFiles(known);
      }
    }
    return readPidStat(this.ctx.host, pid);
  }

  private readStatm(pid: number, known: Known): PidStatm {
    const statm = known.files?.statm;
    return statm === undefined ? readPidStatm(this.ctx.host, pid) : parsePidStatm(statm.read(), `/proc/${pid}/statm`);
  }

  private readStatus(pid: number, known: Known): PidStatus {
    const status = known.files?.status;
    return status === undefined ? readPidStatus(this.ctx.host, pid) : parsePidStatus(status.read(), `/proc/${pid}/status`);
  }

  private readIo(pid: number, known: Known): PidIo {
    const io = known.files?.io;
    return io === undefined ? readPidIo(this.ctx.host, pid) : parsePidIo(io.read(), `/proc/${pid}/io`);
  }

  private keepFiles(pid: number, withIo: boolean, withStatus: boolean): KeptFiles | undefined {
    if (this.procfs !== true || this.keptProcesses >= MAX_KEPT_PROCESSES) return undefined;
    let stat: PidFile;
    let statm: PidFile | undefined;
    try {
      stat = new PidFile(this.ctx.host.resolve(`/proc/${pid}/stat`));
    } catch {
      return undefined;
    }
    try {
      statm = withStatus ? undefined : new PidFile(this.ctx.host.resolve(`/proc/${pid}/statm`));
    } catch {
      stat.close();
      return undefined;
    }
    let io: PidFile | undefined;
    try {
      io = withIo ? new PidFile(this.ctx.host.resolve(`/proc/${pid}/io`)) : undefined;
    } catch {
      // Not ours to open: read by path, which fails and is counted, like before.
    }
    let status: PidFile | undefined;
    try {
      status = withStatus ? new PidFile(this.ctx.host.resolve(`/proc/${pid}/status`)) : undefined;
    } catch {
      // Read by path.
    }
    this.keptProcesses += 1;
    return { stat, statm, io, status };
  }

  private closeFiles(known: Known): void {
    if (known.files === undefined) return;
    known.files.stat.close();
    known.files.statm?.close();
    known.files.io?.close();
    known.files.status?.close();
    known.files = undefined;
    this.keptProcesses -= 1;
  }

  private forget(pid: number): void {
    const known = this.known.get(pid);
    if (known !== undefined) this.closeFiles(known);
    this.known.delete(pid);
  }

  /** Executable name and path, command and command line; read once per process. */
  private async describe(pid: number, comm: string): Promise<ProcessDetails> {
    const [executablePath, args] = await Promise.all([
      readExecutablePath(this.ctx.host, pid),
      readCmdline(this.ctx.host, pid).catch((): string[] => []),
    ]);
    const exeName = executablePath === undefined ? undefined : path.basename(executablePath);
    const argName = args.length > 0 ? path.basename(args[0]) : undefined;
    // comm (status Name) is cut at 15 bytes: a name that starts with it may be the whole of it.
    const completes = (name: string | undefined): name is string => comm.length >= TRUNCATED_COMM && name?.startsWith(comm) === true;
    // hostmetrics: comm, completed from argv[0] as the Collector (gopsutil) does; semconv: the
    // executable's file name, as the conventions say for Linux, else (no access to exe) comm.
    const executableName = this.ctx.naming === 'hostmetrics' ? (completes(argName) ? argName : comm) : (exeName ?? comm);
    return {
      executableName,
      names: [...new Set([executableName, comm, completes(exeName) ? exeName : comm])],
      executablePath,
      // Only through the kernel's exe link: in a captured tree it is a plain symlink to a path of this machine.
      buildId: this.ctx.naming === 'semconv' && this.procfs === true ? this.hashes.of(this.ctx.host.resolve(`/proc/${pid}/exe`)) : undefined,
      command: args.length > 0 ? args[0] : undefined,
      commandLine: args.length > 0 ? args.join(' ') : undefined,
    };
  }

  private async ownerName(uid: number): Promise<string> {
    const now = this.ctx.clock.monotonic();
    if (!this.users.has(uid) && now - this.usersLoadedAt >= PASSWD_RELOAD_MS) {
      this.users = await readPasswd(this.ctx.host);
      this.usersLoadedAt = now;
    }
    return this.users.get(uid) ?? String(uid);
  }

  private countFailure(err: unknown, what: string, pid: number, unreadable: Unreadable): void {
    if (isGone(err)) {
      this.skipped.exited += 1;
      return;
    }
    if (what === 'io') this.skipped.ioUnreadable += 1;
    else if (what === 'fd') this.skipped.fdsUnreadable += 1;
    else this.skipped.unreadable += 1;
    unreadable.add(what, (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.name : 'error'), pid);
  }


  /** Observes one process; false when it could not be read (exited, or no access). */
  private async report(result: BatchObservableResult | undefined, out: MetricSink<typeof metrics>, pid: number, stat: PidStat, known: Known, unreadable: Unreadable): Promise<boolean> {
    // status is read the first time a process is reported (its owner), until the page size is
    // known, and every cycle while its context switches are reported.
    const switches = out.has('contextSwitches');
    known.files ??= this.keepFiles(pid, out.has('diskIo'), switches);
    // The resident set as the Collector and node_exporter read it: statm's exact count, or the
    // same count as status's VmRSS when status is read anyway (one file fewer per process).
    let statm: PidStatm | undefined;
    if (out.has('memoryUsage') && !switches) {
      try {
        statm = this.readStatm(pid, known);
      } catch (err) {
        this.countFailure(err, 'statm', pid, unreadable);
        return false;
      }
    }
    let status: PidStatus | undefined;
    if (known.owner === undefined || this.pageSize === undefined || switches) {
      try {
        status = this.readStatus(pid, known);
      } catch (err) {
        this.countFailure(err, 'status', pid, unreadable);
        return false;
      }
      if (statm !== undefined) this.pageSize ??= pageSizeFrom(statm.residentPages, status.vmRssBytes ?? 0);
    }
    let io: PidIo | undefined;
    let fds: number | undefined;
    try {
      io = out.has('diskIo') ? this.readIo(pid, known) : undefined;
    } catch (err) {
      this.countFailure(err, 'io', pid, unreadable);
    }
    try {
      fds = out.has('fds') ? countPidFds(this.ctx.host, pid, this.procfs === true) : undefined;
    } catch (err) {
      this.countFailure(err, 'fd', pid, unreadable);
    }
    known.details ??= await this.describe(pid, stat.comm);
    if (status !== undefined) known.owner ??= await this.ownerName(status.uid);
    if (known.started === undefined) {
      const ms = this.bootTime === null || this.bootTime === undefined ? this.ctx.clock.now() : (this.bootTime + stat.startTicks / USER_HZ) * 1000;
      known.started = { ms, time: millisToHrTime(ms) };
    }
    const sample: ProcessSample = {
      userSeconds: stat.userSeconds,
      systemSeconds: stat.systemSeconds,
      waitSeconds: stat.blkioDelaySeconds,
      rssBytes: statm !== undefined && this.pageSize !== undefined ? statm.residentPages * this.pageSize : status?.vmRssBytes ?? 0,
      virtualBytes: stat.vsizeBytes,
      threads: stat.numThreads,
      minorFaults: stat.minorFaults,
      majorFaults: stat.majorFaults,
      uptimeSeconds: Math.max(0, this.ctx.clock.now() - known.started.ms) / 1000,
      io,
      fds,
      voluntaryContextSwitches: switches ? status?.voluntaryContextSwitches : undefined,
      involuntaryContextSwitches: switches ? status?.involuntaryContextSwitches : undefined,
    };
    if (known.attributes?.parentPid !== stat.ppid) {
      known.attributes = { parentPid: stat.ppid, byExtra: new Map([[NO_EXTRA, this.attributes(pid, stat.ppid, known.started.ms, known.details, known.owner ?? '')]]) };
    }
    const { byExtra } = known.attributes;
    const own = byExtra.get(NO_EXTRA)!;
    for (const [key, value, extra = NO_EXTRA] of processPoints(sample)) {
      let attrs = byExtra.get(extra);
      if (attrs === undefined) byExtra.set(extra, (attrs = { ...own, ...extra }));
      out.observe(result, key, value, attrs, known.started.time);
    }
    return true;
  }

  private attributes(pid: number, parentPid: number, startedMs: number, d: ProcessDetails, owner: string): Attributes {
    const attrs: Attributes = { 'process.pid': pid };
    if (this.ctx.naming === 'semconv') attrs['process.creation.time'] = new Date(startedMs).toISOString();
    if (this.include.parentPid) attrs['process.parent_pid'] = parentPid;
    attrs['process.executable.name'] = d.executableName;
    attrs['process.owner'] = owner;
    if (d.executablePath !== undefined && this.include.executablePath) attrs['process.executable.path'] = d.executablePath;
    if (d.buildId !== undefined) attrs['process.executable.build_id.htlhash'] = d.buildId;
    if (d.command !== undefined) attrs['process.command'] = d.command;
    if (d.commandLine !== undefined && this.include.commandLine) attrs['process.command_line'] = d.commandLine;
    return attrs;
  }
}

export const factory = collectorFactory(family, (ctx) => new ProcessCollector(ctx));
