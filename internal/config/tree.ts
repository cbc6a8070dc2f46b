// Small helpers over the plain object a YAML document parses into. Keys are arrays because map
// keys (resource attributes such as `service.name`) may themselves contain dots.

export type Tree = Record<string, unknown>;

export function isTree(value: unknown): value is Tree {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function getAt(tree: Tree, keys: readonly string[]): unknown {
  let node: unknown = tree;
  for (const key of keys) {
    if (!isTree(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Sets a value, creating (or replacing non-object) intermediate sections. */
export function setAt(tree: Tree, keys: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}

export function deleteAt(tree: Tree, keys: readonly string[]): void {
  const parent = keys.length === 1 ? tree : getAt(tree, keys.slice(0, -1));
  if (isTree(parent)) delete parent[keys[keys.length - 1]];
}

/** A copy without null values: an empty YAML value (`key:`) means "not set, use the default". */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isTree(value)) return value;
  const copy: Tree = {};
  for (const [key, child] of Object.entries(value)) if (child !== null) copy[key] = withoutNulls(child);
  return copy;
}

/** `overlay` merged into `base` (a fresh copy): sections recursively, everything else replaced. */
export function deepMerge<T>(base: T, overlay: unknown): T {
  if (!isTree(base) || !isTree(overlay)) return (overlay === undefined ? base : overlay) as T;
  const merged: Tree = { ...base };
  for (const [key, value] of Object.entries(overlay)) merged[key] = deepMerge(merged[key], value);
  return merged as T;
}
