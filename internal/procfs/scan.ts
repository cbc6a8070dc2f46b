// Reading numbers and words of a kernel file in place, without the substrings and arrays a split
// makes: for the files the local API's sampler parses every second.

const UNICODE_SPACE = /\s/;

/** White space as split(/\s+/) and trim() see it: ASCII's, and Unicode's (never in a kernel file). */
export function isBlank(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || (code > 127 && UNICODE_SPACE.test(String.fromCharCode(code)));
}

/**
 * The number written from `from` to `to` in `text`: digits read in place (no substring), anything
 * else (a sign, an exponent, hex) as Number() reads it.
 */
export function numberAt(text: string, from: number, to: number): number {
  if (to - from <= 15) {
    let value = 0;
    let i = from;
    for (; i < to; i += 1) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    if (i === to) return value;
  }
  return Number(text.slice(from, to));
}
