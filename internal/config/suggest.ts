// Did-you-mean suggestions for unknown keys.

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

// Case and separators are ignored: `skipVerify` and `skip-verify` both suggest `skip_verify`.
function comparable(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** The candidate closest to `key`, when it is close enough to be a likely typo. */
export function closestMatch(key: string, candidates: readonly string[]): string | undefined {
  const target = comparable(key);
  const limit = Math.max(2, Math.floor(target.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(target, comparable(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
