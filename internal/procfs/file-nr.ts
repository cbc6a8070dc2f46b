import { ParseError } from './errors';
import type { HostFs } from './host';

export interface FileHandles {
  /** File handles the kernel has allocated. */
  allocated: number;
  /** Allocated but unused (always 0 since Linux 2.6). */
  unused: number;
  /** The system-wide maximum (fs.file-max). */
  max: number;
}

const SOURCE = '/proc/sys/fs/file-nr';

/** Parses `/proc/sys/fs/file-nr`: `allocated unused max`. */
export function parseFileNr(text: string): FileHandles {
  const fields = text.trim().split(/\s+/);
  const values = fields.map(Number);
  if (fields.length !== 3 || values.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ParseError(SOURCE, `"${text.trim().slice(0, 80)}" is not "allocated unused max"`);
  }
  return { allocated: values[0]!, unused: values[1]!, max: values[2]! };
}

export async function readFileNr(host: HostFs): Promise<FileHandles> {
  return parseFileNr(host.readText(SOURCE));
}
