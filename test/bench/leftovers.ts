// What a benchmark run leaves behind: the processes it started (agents, peers, workers, and what
// they started in turn) that are still alive when its suites are done, a failed suite's above all.
import { HostFs } from '../../internal/procfs/host';
import { listPids, readPidStat } from '../../internal/procfs/pid';

/** A process by pid and start time: the pair stays its own if the pid is reused. */
export interface Leftover {
  pid: number;
  startTicks: number;
  comm: string;
}

/** Every live descendant of `root` (children, their children, …), parents before children. */
export async function descendantsOf(root: number, host = new HostFs('/')): Promise<Leftover[]> {
  const children = new Map<number, Leftover[]>();
  for (const pid of await listPids(host)) {
    try {
      const stat = readPidStat(host, pid);
      // A zombie is already dead: nothing to stop, its parent reaps it.
      if (stat.state === 'Z' || stat.state === 'X') continue;
      const siblings = children.get(stat.ppid) ?? [];
      siblings.push({ pid, startTicks: stat.startTicks, comm: stat.comm });
      children.set(stat.ppid, siblings);
    } catch {
      // Exited while listed.
    }
  }
  const found: Leftover[] = [];
  const visit = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child.pid);
    }
  };
  visit(root);
  return found;
}

function alive(process: Leftover, host: HostFs): boolean {
  try {
    const stat = readPidStat(host, process.pid);
    return stat.startTicks === process.startTicks && stat.state !== 'Z' && stat.state !== 'X';
  } catch {
    return false;
  }
}

function signal(target: Leftover, name: NodeJS.Signals): void {
  try {
    process.kill(target.pid, name);
  } catch {
    // Gone already.
  }
}

/**
 * Stops every process this one started that is still alive: SIGTERM, then SIGKILL for those still
 * there after `graceMs`. Each is signalled by pid only while that pid is still the same process.
 * Returns what was found.
 */
export async function stopLeftovers(graceMs = 3_000, host = new HostFs('/')): Promise<Leftover[]> {
  const leftovers = await descendantsOf(process.pid, host);
  for (const leftover of leftovers) if (alive(leftover, host)) signal(leftover, 'SIGTERM');
  const deadline = performance.now() + graceMs;
  while (leftovers.some((l) => alive(l, host)) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const leftover of leftovers) if (alive(leftover, host)) signal(leftover, 'SIGKILL');
  return leftovers;
}
