import { closeSync, openSync, readSync } from 'node:fs';
import { HostFs } from './host';

// Most files kept open by default: the system families read about twenty each cycle.
const MAX_KEPT = 64;

/**
 * The kernel's host-wide files: under /proc and /sys, and not in one process's /proc/<pid>
 * directory (pid 1 lives as long as the host), whose descriptors would pile up as processes come
 * and go. Files under /etc and the like are replaced by rename, which a kept descriptor would
 * not see.
 */
export function isHostWideKernelFile(hostPath: string): boolean {
  if (hostPath.startsWith('/sys/')) return true;
  if (!hostPath.startsWith('/proc/')) return false;
  return !/^\/proc\/\d+\//.test(hostPath) || hostPath.startsWith('/proc/1/');
}

export interface KeptFilesOptions {
  /** Which host paths are kept open; the others are read afresh each time. Default: every one. */
  keep?: (hostPath: string) => boolean;
  /** Most files kept open at once; the ones beyond are read afresh. Default 64. */
  maxKept?: number;
}

/**
 * A HostFs for readers that read the same kernel files over and over (the local API's sampler
 * every second, the system families every cycle): each file is opened once and then read with
 * pread at offset 0 into one reused buffer, with no open, fstat and close, and no path lookup, per
 * read. procfs and sysfs files are seq_files: a read at offset 0 makes the kernel generate them
 * anew, and a read shorter than the buffer is the whole file. Only for kernel-generated files;
 * close() when done.
 */
export class KeptFilesHostFs extends HostFs {
  private readonly fds = new Map<string, number>();
  private buffer = Buffer.allocUnsafe(16 * 1024);
  private readonly keep: ((hostPath: string) => boolean) | undefined;
  private readonly maxKept: number;

  constructor(root?: string, options: KeptFilesOptions = {}) {
    super(root);
    this.keep = options.keep;
    this.maxKept = options.maxKept ?? MAX_KEPT;
  }

  /** Files held open now. */
  get keptFiles(): number {
    return this.fds.size;
  }

  override readText(hostPath: string): string {
    let fd = this.fds.get(hostPath);
    if (fd === undefined) {
      if (this.fds.size >= this.maxKept || (this.keep !== undefined && !this.keep(hostPath))) return super.readText(hostPath);
      fd = openSync(this.resolve(hostPath), 'r');
      this.fds.set(hostPath, fd);
    }
    try {
      for (;;) {
        const length = readSync(fd, this.buffer, 0, this.buffer.length, 0);
        if (length < this.buffer.length) return this.buffer.toString('utf8', 0, length);
        // It may not all have fitted: read it again, whole, into a larger buffer kept from now on.
        this.buffer = Buffer.allocUnsafe(this.buffer.length * 2);
      }
    } catch (err) {
      // Opened again on the next read: a file that went away and came back is read anew.
      this.forget(hostPath, fd);
      throw err;
    }
  }

  /** Closes every file kept open. */
  close(): void {
    for (const [hostPath, fd] of this.fds) this.forget(hostPath, fd);
  }

  private forget(hostPath: string, fd: number): void {
    this.fds.delete(hostPath);
    try {
      closeSync(fd);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
