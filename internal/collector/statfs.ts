import { promises as fs, type StatsFs } from 'node:fs';

/** What statfs(2) says of a file system; blocks are `bsize` bytes. */
export type FsStats = Pick<StatsFs, 'bsize' | 'blocks' | 'bfree' | 'bavail' | 'files' | 'ffree'>;

/** statfs(2) as Node exposes it; injectable so tests can model a hung network mount. */
export type StatfsFunction = (path: string) => Promise<FsStats>;

/** Why a mount has no statistics this time. */
export interface StatfsSkip {
  /** timeout: no answer within the bound; pending: an earlier call is still stuck; error: it failed. */
  skip: 'timeout' | 'pending' | 'error';
  why: string;
}

const hung = (mountpoint: string): string => `statfs ${mountpoint} not answering (hung mount?)`;

class StatfsTimeout extends Error {
  constructor(readonly mountpoint: string, timeoutMs: number) {
    super(`statfs ${mountpoint} took longer than ${timeoutMs} ms`);
    this.name = 'StatfsTimeout';
  }
}

/**
 * statfs bounded by a timeout, with at most one call in flight per mount point. A statfs stuck
 * on a dead NFS server holds one of libuv's few pool threads until the server answers; issuing
 * another for the same mount every cycle would soon hold them all and stall every file read of
 * the process. One instance per reader (collector, heartbeat), kept for its lifetime.
 */
export class GuardedStatfs {
  private readonly pending = new Set<string>();

  constructor(private readonly statfs: StatfsFunction = (path) => fs.statfs(path)) {}

  /** `path` is where this process sees the mount (under the host root); `mountpoint` names it. */
  async stat(path: string, mountpoint: string, timeoutMs: number): Promise<FsStats | StatfsSkip> {
    // Timed out and still pending are one condition (a hung mount): one reason, so a failure
    // streak logs it once rather than as a change of reason.
    if (this.pending.has(mountpoint)) return { skip: 'pending', why: hung(mountpoint) };
    const call = this.statfs(path);
    this.pending.add(mountpoint);
    const settled = (): void => void this.pending.delete(mountpoint);
    call.then(settled, settled);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StatfsTimeout(mountpoint, timeoutMs)), timeoutMs);
    });
    try {
      return await Promise.race([call, timeout]);
    } catch (err) {
      if (err instanceof StatfsTimeout) return { skip: 'timeout', why: hung(mountpoint) };
      return { skip: 'error', why: `statfs ${mountpoint} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }
}
