import { promises as fs, readFileSync } from 'node:fs';
import { posix as path } from 'node:path';

/**
 * Read access to the host's files under a root directory: `/` on a bare host, `/hostfs` in a
 * DaemonSet pod. Every collector reads through this, never through absolute paths, so the same
 * code reports the host from inside a container and tests can point it at a captured tree.
 */
export class HostFs {
  constructor(readonly root: string = '/') {}

  /** The path on this machine of a host path such as `/proc/stat`. */
  resolve(hostPath: string): string {
    return this.root === '/' ? hostPath : path.join(this.root, hostPath);
  }

  /** The host's view of a path on this machine (strips the root prefix). */
  toHostPath(localPath: string): string {
    if (this.root === '/' || !localPath.startsWith(this.root)) return localPath;
    const rest = localPath.slice(this.root.replace(/\/$/, '').length);
    return rest.length === 0 ? '/' : rest;
  }

  readText(hostPath: string): Promise<string> {
    return fs.readFile(this.resolve(hostPath), 'utf8');
  }

  readTextSync(hostPath: string): string {
    return readFileSync(this.resolve(hostPath), 'utf8');
  }

  /** The file's text, or undefined when it does not exist or cannot be read. */
  async readOptional(hostPath: string): Promise<string | undefined> {
    try {
      return await this.readText(hostPath);
    } catch {
      return undefined;
    }
  }

  async list(hostDir: string): Promise<string[]> {
    return fs.readdir(this.resolve(hostDir));
  }

  async exists(hostPath: string): Promise<boolean> {
    try {
      await fs.access(this.resolve(hostPath));
      return true;
    } catch {
      return false;
    }
  }
}

/** The agent's notion of time, passed in so tests can drive it. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for durations and rates. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
