// process.executable.build_id.htlhash: the build id the OpenTelemetry profiling specification
// defines for executables whose GNU or Go build id is stripped, so that metrics and profiles of
// the same program can be joined. SHA-256 of the file's first 4096 bytes, its last 4096 bytes (the
// two may overlap; not padded) and its length as a big-endian uint64; the first 16 bytes, in hex
// (lower case, as the OpenTelemetry eBPF profiler writes it).
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const PAGE = 4096;
// Distinct executables remembered; a host runs far fewer, so the bound only guards against churn.
const MAX_EXECUTABLES = 4096;

/** The htlhash of a file, given its first and last (up to) 4096 bytes and its length. */
export function htlhash(head: Uint8Array, tail: Uint8Array, length: number): string {
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(length));
  return createHash('sha256').update(head).update(tail).update(size).digest().subarray(0, 16).toString('hex');
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

/** Each executable's htlhash, computed once per file (device, inode, size and modification time). */
export class ExecutableHashes {
  private readonly byFile = new Map<string, string>();

  /**
   * The htlhash of the file at `path` (`/proc/<pid>/exe` opens the process's executable, even a
   * deleted one); undefined when it cannot be opened (a kernel thread, another user's process
   * without ptrace read access) or read.
   */
  of(path: string): string | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined;
    }
    try {
      const { dev, ino, size, mtimeMs } = fstatSync(fd);
      const key = `${dev}:${ino}:${size}:${mtimeMs}`;
      let hash = this.byFile.get(key);
      if (hash === undefined) {
        hash = htlhash(readAt(fd, Math.min(PAGE, size), 0), readAt(fd, Math.min(PAGE, size), Math.max(0, size - PAGE)), size);
        if (this.byFile.size >= MAX_EXECUTABLES) this.byFile.clear();
        this.byFile.set(key, hash);
      }
      return hash;
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }
}
