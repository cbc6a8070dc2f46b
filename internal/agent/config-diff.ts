import type { AgentConfig } from '../config/types';

/** Top-level sections (two levels deep) whose values differ; names only, never values. */
export function changedSections(before: AgentConfig, after: AgentConfig): string[] {
  const changed: string[] = [];
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const left = a[key];
    const right = b[key];
    if (JSON.stringify(left) === JSON.stringify(right)) continue;
    if (left !== null && right !== null && typeof left === 'object' && typeof right === 'object' && !Array.isArray(left)) {
      const l = left as Record<string, unknown>;
      const r = right as Record<string, unknown>;
      for (const sub of new Set([...Object.keys(l), ...Object.keys(r)])) {
        if (JSON.stringify(l[sub]) !== JSON.stringify(r[sub])) changed.push(`${key}.${sub}`);
      }
    } else {
      changed.push(key);
    }
  }
  return changed;
}
