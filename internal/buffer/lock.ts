import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BufferLockedError } from './errors';

export const LOCK_FILE = 'buffer.lock';

/**
 * One agent per buffer directory. A lock file holding the owner's pid, created with O_EXCL; a
 * lock whose pid is gone (the owner was killed with -9) or is our own pid (a container restarted
 * with the same pid 1) is stale and taken over. SQLite's EXCLUSIVE locking mode would also keep
 * a second agent out, but it keeps `buffer status` out too, and WAL readers must stay possible.
 */
export class DirectoryLock {
  private constructor(private readonly file: string) {}

  /** Takes the lock or throws BufferLockedError; file-system errors (read-only dir) propagate. */
  static acquire(dir: string): DirectoryLock {
    const file = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const fd = openSync(file, 'wx', 0o644);
        try {
          writeSync(fd, `${process.pid}\n`);
        } finally {
          closeSync(fd);
        }
        return new DirectoryLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readHolder(file);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw new BufferLockedError(dir, holder);
      unlinkSync(file);
    }
    // Two agents raced for a stale lock and the other won.
    throw new BufferLockedError(dir, readHolder(file) ?? 0);
  }

  release(): void {
    try {
      if (readHolder(this.file) === process.pid) unlinkSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
