// The command-line parser, the YAML parser and the config loader with its generated validator run
// once, before the agent starts; kept, their sources and compiled code were about 0.7 MB of a
// running agent's resident memory. Once the agent runs they are dropped from the module cache, so
// the garbage collector can free them. A SIGHUP reload requires the loader again (a few
// milliseconds, once per reload).
//
// Only modules whose exports nothing else holds are dropped: a module left in the cache would
// otherwise meet a second copy of a class it shares with a reloaded one (ConfigError, say), and
// `instanceof` would fail. A kept module first required by a dropped one links back to it as
// `module.parent`, and through that parent's `children` to all of yaml: those links are cut too, or
// nothing would be freed. Node 22 and later keep a second such link that cannot be cut, so the CLI
// loads the kept config checks before the loader.
import { join, sep } from 'node:path';

const PACKAGES = ['commander', 'yaml'].map((name) => `${sep}node_modules${sep}${name}${sep}`);
const CONFIG_DIR = join(__dirname, '..', '..', 'internal', 'config');
const CONFIG_LOADER_FILES = ['load', 'show', 'config-validator', 'duration-format', 'expand', 'env', 'suggest', 'defaults'].map((name) => join(CONFIG_DIR, `${name}.js`));

export function isStartupOnlyModule(id: string): boolean {
  return PACKAGES.some((part) => id.includes(part)) || CONFIG_LOADER_FILES.includes(id);
}

/** Drops the start-up-only modules from the cache, their parents' `children` and their children's `parent`; returns how many. */
export function releaseStartupModules(): number {
  const released = new Set(Object.keys(require.cache).filter(isStartupOnlyModule));
  for (const id of released) delete require.cache[id];
  for (const loaded of Object.values(require.cache)) {
    if (!loaded) continue;
    loaded.children = loaded.children.filter((child) => !released.has(child.id));
    if (loaded.parent && released.has(loaded.parent.id)) loaded.parent = null;
  }
  return released.size;
}
