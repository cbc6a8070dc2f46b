import { ParseError } from './errors';
import type { HostFs } from './host';

/** One line of `/proc/<pid>/mountinfo` (proc(5)), with the kernel's octal escapes decoded. */
export interface MountInfo {
  mountId: number;
  parentId: number;
  /** `major:minor` of the device; bind mounts of one file system share it. */
  majorMinor: string;
  /** The directory of the file system that is mounted here (not `/` for a bind of a subdirectory). */
  root: string;
  mountpoint: string;
  /** Per-mount options: `rw` or `ro` first, then the rest. */
  options: string[];
  fstype: string;
  source: string;
  superOptions: string[];
}

/** The kernel escapes space, tab, newline and backslash in paths as `\ooo` octal. */
export function decodeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function parseLine(line: string, lineNumber: number, source: string): MountInfo {
  const cols = line.split(' ');
  const separator = cols.indexOf('-', 6);
  if (separator < 0 || cols.length < separator + 3) {
    throw new ParseError(source, `line ${lineNumber}: not a mountinfo line: ${JSON.stringify(line)}`);
  }
  const mountId = Number(cols[0]);
  const parentId = Number(cols[1]);
  if (!Number.isInteger(mountId) || !Number.isInteger(parentId) || !/^\d+:\d+$/.test(cols[2])) {
    throw new ParseError(source, `line ${lineNumber}: bad mount id or device: ${JSON.stringify(line)}`);
  }
  return {
    mountId,
    parentId,
    majorMinor: cols[2],
    root: decodeMountPath(cols[3]),
    mountpoint: decodeMountPath(cols[4]),
    options: cols[5].split(','),
    fstype: cols[separator + 1],
    source: decodeMountPath(cols[separator + 2]),
    superOptions: (cols[separator + 3] ?? '').split(',').filter((o) => o !== ''),
  };
}

/** Parses a mountinfo file: one entry per mount, in mount order. */
export function parseMountinfo(text: string, source = '/proc/self/mountinfo'): MountInfo[] {
  const mounts: MountInfo[] = [];
  text.split('\n').forEach((line, i) => {
    if (line !== '') mounts.push(parseLine(line, i + 1, source));
  });
  if (mounts.length === 0) throw new ParseError(source, 'no mounts');
  return mounts;
}

/**
 * The mounts of a container's own mountinfo that show the host: those at or under `root` (where
 * the host's `/` is mounted), with mount points rewritten to the host's paths.
 */
export function hostMounts(mounts: MountInfo[], root: string): MountInfo[] {
  const prefix = root.replace(/\/+$/, '');
  if (prefix === '') return mounts;
  return mounts
    .filter((m) => m.mountpoint === prefix || m.mountpoint.startsWith(`${prefix}/`))
    .map((m) => ({ ...m, mountpoint: m.mountpoint.length === prefix.length ? '/' : m.mountpoint.slice(prefix.length) }));
}

/**
 * The host's mounts, mount points as the host sees them. `/proc/1/mountinfo` under the host root
 * is init's mount namespace, the host's even when this agent runs in a container; when it is not
 * readable, the agent's own view, keeping what lies under the host root.
 */
export async function readMountinfo(host: HostFs): Promise<MountInfo[]> {
  const init = host.readOptional('/proc/1/mountinfo');
  if (init !== undefined) return parseMountinfo(init, '/proc/1/mountinfo');
  const own = host.readOptional('/proc/self/mountinfo');
  if (own !== undefined) return hostMounts(parseMountinfo(own, '/proc/self/mountinfo'), host.root);
  throw new ParseError('/proc/1/mountinfo', 'neither /proc/1/mountinfo nor /proc/self/mountinfo is readable under the host root');
}
