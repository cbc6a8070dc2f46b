import type { SystemInfo } from '../../pkg/heartbeat';
import type { HostFs } from '../procfs/host';
import { listPids, readPidStat, type PidStat } from '../procfs/pid';

export type ProcessFields = Pick<SystemInfo, 'processCount' | 'processRunning' | 'processSleeping' | 'processStopped' | 'processZombie' | 'processBlocked' | 'threadCount'>;

/**
 * Process counts by the state letter of /proc/<pid>/stat: R running; S, I (idle kernel thread),
 * W and P sleeping; D blocked (uninterruptible, usually on I/O); T and t stopped; Z zombie. Every
 * process counts in processCount whatever its state.
 */
export function tallyProcesses(stats: ReadonlyArray<Pick<PidStat, 'state' | 'numThreads'>>): ProcessFields {
  const fields: ProcessFields = { processCount: stats.length, processRunning: 0, processSleeping: 0, processStopped: 0, processZombie: 0, processBlocked: 0, threadCount: 0 };
  for (const { state, numThreads } of stats) {
    fields.threadCount += numThreads;
    if (state === 'R') fields.processRunning += 1;
    else if (state === 'S' || state === 'I' || state === 'W' || state === 'P') fields.processSleeping += 1;
    else if (state === 'D') fields.processBlocked += 1;
    else if (state === 'T' || state === 't') fields.processStopped += 1;
    else if (state === 'Z') fields.processZombie += 1;
  }
  return fields;
}

/** Reads every /proc/<pid>/stat; a process that exits between listing and reading is skipped. */
export async function readProcessFields(host: HostFs): Promise<ProcessFields> {
  const pids = await listPids(host);
  const stats: PidStat[] = [];
  for (const pid of pids) {
    try {
      stats.push(readPidStat(host, pid));
    } catch {
      // exited since the listing
    }
  }
  return tallyProcesses(stats);
}
