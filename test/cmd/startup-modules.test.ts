// The CLI drops what only start-up needs once the agent runs; a reload must still load a config,
// and its errors must still be the ConfigError the agent checks for.
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStartupOnlyModule, releaseStartupModules } from '../../cmd/tfo-agent/startup-modules';
import { ConfigError } from '../../internal/config/errors';

type LoadModule = typeof import('../../internal/config/load');

test('the CLI, YAML and config-loader modules leave the cache and their parents; the loader works again after', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-startup-modules-'));
  try {
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, 'agent:\n  name: first\n');
    writeFileSync(bad, 'collectors:\n  system:\n    interval: "often"\n');
    const options = (file: string) => ({ file, env: {}, cwd: dir });

    const first = (require('../../internal/config/load') as LoadModule).loadConfig(options(good));
    assert.equal(first.config.agent.name, 'first');
    require('commander');
    const startupOnly = Object.keys(require.cache).filter(isStartupOnlyModule);
    assert.ok(startupOnly.some((id) => id.endsWith(join('internal', 'config', 'load.js'))), 'the loader was cached');
    assert.ok(startupOnly.some((id) => id.includes(join('node_modules', 'yaml'))), 'yaml was cached');
    assert.ok(startupOnly.some((id) => id.includes(join('node_modules', 'commander'))), 'commander was cached');

    assert.equal(releaseStartupModules(), startupOnly.length);
    assert.deepEqual(Object.keys(require.cache).filter(isStartupOnlyModule), []);
    for (const loaded of Object.values(require.cache)) {
      assert.deepEqual(loaded?.children.filter((child) => isStartupOnlyModule(child.id)), [], `children of ${loaded?.id}`);
    }
    // Modules shared with the running agent stay: the reloaded loader throws the same ConfigError class.
    assert.ok(Object.keys(require.cache).some((id) => id.endsWith(join('internal', 'config', 'errors.js'))));

    const reloaded = require('../../internal/config/load') as LoadModule;
    assert.equal(reloaded.loadConfig(options(good)).config.agent.name, 'first');
    assert.throws(() => reloaded.loadConfig(options(bad)), (err: unknown) => err instanceof ConfigError && /collectors\.system\.interval/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('once released, the loader and yaml are garbage: no module left in the cache links back to them', () => {
  // A fresh process, whose entry script is a cached module as the CLI's is: the kept config
  // modules (checks, schema, errors) are first required by the loader there, as in the CLI.
  const dir = mkdtempSync(join(tmpdir(), 'tfo-startup-release-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, `
      const { releaseStartupModules } = require(${JSON.stringify(join(__dirname, '..', '..', 'cmd', 'tfo-agent', 'startup-modules.js'))});
      const loader = new WeakRef(require(${JSON.stringify(join(__dirname, '..', '..', 'internal', 'config', 'load.js'))}));
      const yaml = new WeakRef(require(${JSON.stringify(require.resolve('yaml'))}));
      releaseStartupModules();
      setImmediate(() => {
        gc();
        console.log(JSON.stringify({ loader: loader.deref() !== undefined, yaml: yaml.deref() !== undefined }));
      });`);
    const reachable = JSON.parse(execFileSync(process.execPath, ['--expose-gc', entry], { encoding: 'utf8' })) as Record<string, boolean>;
    assert.deepEqual(reachable, { loader: false, yaml: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
