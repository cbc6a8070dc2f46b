import { closeSync, openSync, readSync } from 'node:fs';
import type { HostFs } from './host';
import { isProcfs, listPids } from './pid';

// The state sits right after "(comm)", within the first bytes of /proc/<pid>/stat; comm is at
// most 64 bytes even for kernel threads, so a short read of the head is enough.
const HEAD_BYTES = 256;
// Files kept open at most; the processes beyond are read by open, read and close, so a host
// with tens of thousands of processes does not hold as many descriptors.
const MAX_KEPT = 1024;

/**
 * The state letter of a `/proc/<pid>/stat` head (R, S, D, Z, T, t, X, I, …) as a character code:
 * the byte after the LAST `)` and a space, since the name may contain parentheses. Undefined for
 * text that has none. Bytes, not a string: nothing is allocated per process.
 */
export function pidStateCode(statHead: Uint8Array, length = statHead.length): number | undefined {
  const close = length === 0 ? -1 : statHead.lastIndexOf(0x29, length - 1);
  if (close === -1 || close + 2 >= length || statHead[close + 1] !== 0x20) return undefined;
  const code = statHead[close + 2];
  const letter = code | 0x20;
  return letter >= 0x61 && letter <= 0x7a ? code : undefined;
}

export interface ProcessStates {
  /** Processes by state letter. */
  counts: Map<string, number>;
  /** Processes that exited between the listing and the read, or whose stat made no sense. */
  skipped: number;
}

export interface ProcessStateReaderOptions {
  /** Most files kept open between reads; default 1,024. */
  maxKept?: number;
  /** Keep files open between reads; by default only on the kernel's procfs (not on a captured tree). */
  keepOpen?: boolean;
}

/** A kept `/proc/<pid>/stat` and the read that last found its pid listed. */
interface Kept {
  fd: number;
  seen: number;
}

/**
 * Counts the host's processes by state from every `/proc/<pid>/stat`, keeping each file open
 * between reads: a read at offset 0 makes the kernel generate the line anew, without the open
 * and close (and their path walk) that cost as much as the read. A kept descriptor belongs to the
 * process it was opened for: once that process is gone a read fails with ESRCH (or gives
 * nothing), so a pid reused by a new process is opened and read afresh, never through the old
 * one. Files of pids no longer listed are closed at the next read; all of them at close().
 * Synchronous reads into one buffer: procfs answers from memory, and a thousand small reads
 * cost far less that way than through the thread pool.
 */
export class ProcessStateReader {
  private readonly kept = new Map<number, Kept>();
  private readonly head = Buffer.allocUnsafe(HEAD_BYTES);
  private readonly maxKept: number;
  private keepOpen: boolean | undefined;
  private reads = 0;

  constructor(private readonly host: HostFs, options: ProcessStateReaderOptions = {}) {
    this.maxKept = options.maxKept ?? MAX_KEPT;
    this.keepOpen = options.keepOpen;
  }

  /** Files held open now. */
  get keptFiles(): number {
    return this.kept.size;
  }

  async read(): Promise<ProcessStates> {
    this.keepOpen ??= isProcfs(this.host);
    const now = ++this.reads;
    const byCode = new Uint32Array(128);
    let skipped = 0;
    for (const pid of await listPids(this.host)) {
      const length = this.readHead(pid, now);
      const code = length === 0 ? undefined : pidStateCode(this.head, length);
      if (code === undefined) skipped += 1;
      else byCode[code] += 1;
    }
    for (const [pid, kept] of this.kept) if (kept.seen !== now) this.forget(pid, kept);
    const counts = new Map<string, number>();
    byCode.forEach((n, code) => {
      if (n > 0) counts.set(String.fromCharCode(code), n);
    });
    return { counts, skipped };
  }

  /** Closes every file kept open. */
  close(): void {
    for (const [pid, kept] of this.kept) this.forget(pid, kept);
  }

  /** Reads the head of the pid's stat into `head`: its length, 0 when it could not be read. */
  private readHead(pid: number, now: number): number {
    const kept = this.kept.get(pid);
    if (kept !== undefined) {
      kept.seen = now;
      let length = 0;
      try {
        length = readSync(kept.fd, this.head, 0, HEAD_BYTES, 0);
      } catch {
        // ESRCH: the process it was opened for is gone; the pid, listed again, may be another's.
      }
      if (length > 0) return length;
      this.forget(pid, kept);
    }
    let fd: number;
    try {
      fd = openSync(this.host.resolve(`/proc/${pid}/stat`), 'r');
    } catch {
      return 0;
    }
    let keep = false;
    try {
      const length = readSync(fd, this.head, 0, HEAD_BYTES, 0);
      keep = length > 0 && this.keepOpen === true && this.kept.size < this.maxKept;
      return length;
    } catch {
      return 0;
    } finally {
      if (keep) this.kept.set(pid, { fd, seen: now });
      else closeSync(fd);
    }
  }

  private forget(pid: number, kept: Kept): void {
    this.kept.delete(pid);
    try {
      closeSync(kept.fd);
    } catch {
      // Already closed: nothing to release.
    }
  }
}
