// The runtime dependency list is exactly what the runtime code loads: the image and the npm
// package ship every runtime dependency, so one nothing loads is dead weight on every host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';

const RUNTIME_DIRS = ['cmd', 'internal', 'pkg'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

/** The package a module specifier names (`@scope/name` or `name`), or undefined for a relative or built-in one. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function loadedPackages(): Set<string> {
  const found = new Set<string>();
  // The compiled code: tsc has dropped type-only imports, and every load is a require() (or a
  // require.resolve() of a file the agent serves, such as the status page's chart library).
  const pattern = /\brequire(?:\.resolve)?\(\s*["']([^"']+)["']\s*\)/g;
  for (const file of RUNTIME_DIRS.flatMap((dir) => sources(join(REPO_ROOT, 'dist', dir)))) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) {
      const name = packageOf(match[1]);
      if (name) found.add(name);
    }
  }
  return found;
}

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

test('every runtime dependency is loaded by runtime code, and every package runtime code loads is one', () => {
  const loaded = loadedPackages();
  const declared = Object.keys(manifest.dependencies);
  assert.deepEqual(declared.filter((name) => !loaded.has(name)).sort(), [], 'runtime dependencies no runtime code loads');
  assert.deepEqual([...loaded].filter((name) => !declared.includes(name)).sort(), [], 'packages runtime code loads without declaring them');
});

test('no development dependency is also a runtime one', () => {
  assert.deepEqual(Object.keys(manifest.devDependencies).filter((name) => name in manifest.dependencies), []);
});
