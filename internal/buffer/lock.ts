import type Database from 'better-sqlite3';
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BufferLockedError } from './errors';

export const LOCK_FILE = 'buffer.lock';
/** An SQLite file whose exclusive lock serializes the takeover of a stale lock file. */
export const TAKEOVER_FILE = 'buffer.lock.takeover';
// A racer waits this long for another one's takeover (a few file operations) to end.
const TAKEOVER_WAIT_MS = 5000;

/**
 * One agent per buffer directory: a lock file holding the owner's pid. It is created whole and
 * atomically (written under a private name, then hard-linked into place, which fails if it
 * exists), so no one ever reads it half written. A lock whose pid is gone (the owner was
 * killed with -9) or is our own pid (a container restarted with the same pid 1) is stale; it is
 * replaced only inside a takeover section serialized by an OS-level lock (SQLite's exclusive
 * lock, a POSIX record lock on an open file descriptor: it dies with the process), where the
 * holder is read again before the file is removed. So of agents racing for a stale lock exactly
 * one wins, and a healthy start loads no SQLite: the takeover section only runs after a crash.
 * SQLite's EXCLUSIVE mode on buffer.db itself would keep `buffer status` out.
 */
export class DirectoryLock {
  private constructor(private readonly file: string) {}

  /** Takes the lock or throws BufferLockedError; file-system errors (read-only dir) propagate. */
  static acquire(dir: string): DirectoryLock {
    const file = join(dir, LOCK_FILE);
    if (writeLockFile(file, 'create')) return new DirectoryLock(file);
    const holder = readHolder(file);
    if (holder !== 'absent' && !isStale(holder)) throw new BufferLockedError(dir, holder ?? 0);
    return withTakeoverLock(dir, () => {
      // Another racer may have taken over (or the holder released) meanwhile: look again. A
      // stale file is replaced, never removed, so no agent can create one in between.
      const current = readHolder(file);
      if (current !== 'absent' && !isStale(current)) throw new BufferLockedError(dir, current ?? 0);
      if (writeLockFile(file, current === 'absent' ? 'create' : 'replace')) return new DirectoryLock(file);
      // An agent that started after the holder released it created it first.
      const winner = readHolder(file);
      throw new BufferLockedError(dir, typeof winner === 'number' ? winner : 0);
    });
  }

  release(): void {
    try {
      if (readHolder(this.file) === process.pid) unlinkSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/**
 * Puts a lock file holding our pid in place, whole: `create` only if none exists (false when
 * one does), `replace` over an existing one.
 */
function writeLockFile(file: string, mode: 'create' | 'replace'): boolean {
  const draft = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  const fd = openSync(draft, 'wx', 0o644);
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  let renamed = false;
  try {
    if (mode === 'replace') {
      renameSync(draft, file);
      renamed = true;
    } else linkSync(draft, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    if (!renamed) unlinkSync(draft);
  }
}

/** Runs `body` holding the directory's takeover lock, waiting for another holder to finish. */
function withTakeoverLock<T>(dir: string, body: () => T): T {
  // Loaded here only: an agent that finds no stale lock never loads SQLite.
  const openDatabase = require('better-sqlite3') as typeof Database;
  const db = new openDatabase(join(dir, TAKEOVER_FILE), { timeout: TAKEOVER_WAIT_MS });
  try {
    db.exec('BEGIN EXCLUSIVE');
    try {
      return body();
    } finally {
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

/** A holder that cannot be read (not a pid), that is gone, or that is us, holds nothing. */
function isStale(holder: number | undefined): boolean {
  return holder === undefined || holder === process.pid || !isAlive(holder);
}

/** The pid in the lock file; undefined when it holds no pid, `absent` when there is none. */
function readHolder(file: string): number | undefined | 'absent' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
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
