import { ParseError } from './errors';
import type { HostFs } from './host';

const SOURCE = '/proc/sys/kernel/random/entropy_avail';

/** Parses `entropy_avail`: bits in the input pool (a constant 256 since Linux 5.18). */
export function parseEntropy(text: string): number {
  const trimmed = text.trim();
  const bits = Number(trimmed);
  if (trimmed.length === 0 || !Number.isInteger(bits) || bits < 0) throw new ParseError(SOURCE, `"${trimmed.slice(0, 40)}" is not a bit count`);
  return bits;
}

export async function readEntropy(host: HostFs): Promise<number> {
  return parseEntropy(host.readText(SOURCE));
}
