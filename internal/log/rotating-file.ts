// logging.file: lines appended with synchronous writes (one line, one write, nothing lost at an
// exit), and the file renamed aside when it reaches max_size_mb: file → file.1 → … → file.N.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';

export interface RotationOptions {
  maxBytes: number;
  /** Rotated files kept beside the live one. */
  maxFiles: number;
}

/** A Writable over `path` that rotates by size; a failed write is dropped, never thrown at the caller. */
export class RotatingFile extends Writable {
  private fd: number;
  private size: number;
  /** Failed writes since the last good one; the first is reported on stderr, once. */
  private failures = 0;

  constructor(private readonly path: string, private readonly options: RotationOptions) {
    super({ decodeStrings: false });
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.append(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    callback();
  }

  /** Writes now, without waiting for the stream machinery. */
  append(line: Buffer): void {
    try {
      if (this.size > 0 && this.size + line.length > this.options.maxBytes) this.rotate();
      writeSync(this.fd, line);
      this.size += line.length;
      this.failures = 0;
    } catch (err) {
      this.failures += 1;
      if (this.failures === 1) process.stderr.write(`tfo-agent: cannot write logging.file ${this.path}: ${(err as Error).message}\n`);
    }
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.path}.${this.options.maxFiles}`, { force: true });
    for (let n = this.options.maxFiles - 1; n >= 1; n -= 1) {
      try {
        renameSync(`${this.path}.${n}`, `${this.path}.${n + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }

  override _final(callback: (error?: Error | null) => void): void {
    closeSync(this.fd);
    callback();
  }
}
