import { closeSync, openSync, readSync } from 'node:fs';
import { HostFs } from './host';

/**
 * A HostFs for a reader that reads the same few kernel files over and over (the local API's
 * sampler, every second): each file is opened once and then read with pread at offset 0 into one
 * reused buffer, with no open, fstat and close, and no path lookup, per read. procfs and sysfs
 * files are seq_files: a read at offset 0 makes the kernel generate them anew, and a read shorter
 * than the buffer is the whole file. Only for kernel-generated files; close() when done.
 */
export class KeptFilesHostFs extends HostFs {
  private readonly fds = new Map<string, number>();
  private buffer = Buffer.allocUnsafe(16 * 1024);

  override readText(hostPath: string): string {
    let fd = this.fds.get(hostPath);
    if (fd === undefined) {
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
