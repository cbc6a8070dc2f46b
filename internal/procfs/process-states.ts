import { closeSync, openSync, readSync } from 'node:fs';
import type { HostFs } from './host';
import { listPids } from './pid';

// The state sits right after "(comm)", within the first bytes of /proc/<pid>/stat; comm is at
// most 64 bytes even for kernel threads, so a short read of the head is enough.
const HEAD_BYTES = 256;
const head = Buffer.allocUnsafe(HEAD_BYTES);

/**
 * The one-letter state of a `/proc/<pid>/stat` line (R, S, D, Z, T, t, X, I, …): the character
 * after the LAST `)`, since the name may contain parentheses. Undefined for text that has none.
 */
export function pidStateCode(statHead: string): string | undefined {
  const close = statHead.lastIndexOf(')');
  const code = close === -1 ? undefined : statHead[close + 2];
  return code !== undefined && /^[A-Za-z]$/.test(code) ? code : undefined;
}

function readHead(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return head.toString('latin1', 0, readSync(fd, head, 0, HEAD_BYTES, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface ProcessStates {
  /** Processes by state letter. */
  counts: Map<string, number>;
  /** Processes that exited between the listing and the read, or whose stat made no sense. */
  skipped: number;
}

/**
 * Counts the host's processes by state from every `/proc/<pid>/stat`. The heads are read
 * synchronously into one buffer: a thousand small reads cost far less that way than through
 * the thread pool, and they never block on disk (procfs is in memory).
 */
export async function readProcessStates(host: HostFs): Promise<ProcessStates> {
  const counts = new Map<string, number>();
  let skipped = 0;
  for (const pid of await listPids(host)) {
    const text = readHead(host.resolve(`/proc/${pid}/stat`));
    const code = text === undefined ? undefined : pidStateCode(text);
    if (code === undefined) skipped += 1;
    else counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return { counts, skipped };
}
