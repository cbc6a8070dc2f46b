import { ParseError } from './errors';
import type { HostFs } from './host';

export interface SwapDevice {
  /** The device or file path as the kernel prints it, octal escapes (`\040`) decoded. */
  device: string;
  /** `partition` or `file`. */
  type: string;
  sizeBytes: number;
  usedBytes: number;
  priority: number;
}

const SOURCE = '/proc/swaps';

function unescapeOctal(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, code: string) => String.fromCharCode(parseInt(code, 8)));
}

/**
 * Parses `/proc/swaps`: a header line, then one line per active swap area with sizes in KiB.
 * A header alone means no swap, which is common (containers, cloud VMs).
 */
export function parseSwaps(text: string): SwapDevice[] {
  const lines = text.split('\n').filter((line) => line.trim().length > 0);
  if (lines.length === 0 || !lines[0]!.startsWith('Filename')) throw new ParseError(SOURCE, 'no "Filename Type Size Used Priority" header');
  return lines.slice(1).map((line, i) => {
    const fields = line.trim().split(/\s+/);
    const [size, used, priority] = fields.slice(2).map(Number);
    if (fields.length !== 5 || [size, used, priority].some((v) => !Number.isInteger(v))) {
      throw new ParseError(SOURCE, `line ${i + 2}: "${line.slice(0, 80)}" is not "path type size_kib used_kib priority"`);
    }
    return { device: unescapeOctal(fields[0]!), type: fields[1]!, sizeBytes: size! * 1024, usedBytes: used! * 1024, priority: priority! };
  });
}

export async function readSwaps(host: HostFs): Promise<SwapDevice[]> {
  return parseSwaps(host.readText(SOURCE));
}
