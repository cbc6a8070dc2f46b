import { ParseError } from './errors';
import type { HostFs } from './host';

const SOURCE = '/proc/filesystems';

/**
 * The file system types of `/proc/filesystems` that need no block device (marked `nodev`):
 * tmpfs, proc, overlay, and the network ones (nfs, cifs) too.
 */
export function parseVirtualFsTypes(text: string): Set<string> {
  const virtual = new Set<string>();
  let types = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [flag, type] = line.split('\t');
    if (type === undefined || type === '' || (flag !== '' && flag !== 'nodev')) throw new ParseError(SOURCE, `not a "[nodev]\\t<type>" line: ${JSON.stringify(line.slice(0, 80))}`);
    types += 1;
    if (flag === 'nodev') virtual.add(type);
  }
  if (types === 0) throw new ParseError(SOURCE, 'no file system types');
  return virtual;
}

/** The host's nodev types, or undefined where the file does not exist (not Linux). */
export function readVirtualFsTypes(host: HostFs): Set<string> | undefined {
  const text = host.readOptional(SOURCE);
  return text === undefined ? undefined : parseVirtualFsTypes(text);
}
