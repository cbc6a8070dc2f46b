// The CLI drops what only start-up needs once the agent runs; a reload must still load a config,
// and its errors must still be the ConfigError the agent checks for.
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStartupOnlyModule, releaseStartupModules } from '../../cmd/tfo-agent/startup-modules';
import { ConfigError } from '../../internal/config/errors';
import { CLI, REPO_ROOT } from '../support/paths';

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

// Registers the exports of the config loader and of yaml as they are loaded (without holding them),
// and once the loader has left the cache, collects garbage and prints which of the two were freed.
const WATCH_RELEASE = `
const Module = require('node:module');
const targets = { loader: /internal[\\\\/]config[\\\\/]load\\.js$/, yaml: /node_modules[\\\\/]yaml[\\\\/]dist[\\\\/]index\\.js$/ };
const freed = new Set();
const watched = new Set();
const registry = new FinalizationRegistry((name) => freed.add(name));
const load = Module._load;
Module._load = function (...args) {
  const result = load.apply(this, args);
  for (const [name, pattern] of Object.entries(targets)) {
    const id = watched.has(name) ? undefined : Object.keys(require.cache).find((key) => pattern.test(key));
    if (id) {
      registry.register(require.cache[id].exports, name);
      watched.add(name);
    }
  }
  return result;
};
const poll = setInterval(() => {
  if (watched.size < 2 || Object.keys(require.cache).some((key) => targets.loader.test(key))) return;
  clearInterval(poll);
  setTimeout(() => { gc(); setTimeout(() => { gc(); setTimeout(() => process.stdout.write('freed: ' + [...freed].sort().join(',') + '\\n'), 100); }, 50); }, 50);
}, 20);
`;

/** This Node, and Node 22 and 24 where the node-versions test installed them. */
function nodeBinaries(): string[] {
  const others = [22, 24].map((major) => join(REPO_ROOT, '.tools', `node${major}`, 'node_modules', 'node', 'bin', 'node'));
  return [process.execPath, ...others.filter((binary) => existsSync(binary))];
}

test('once the agent runs, the config loader and yaml are garbage: nothing left in the cache links back to them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-startup-release-'));
  try {
    const preload = join(dir, 'watch-release.js');
    writeFileSync(preload, WATCH_RELEASE);
    const config = join(dir, 'tfo-agent.yaml');
    writeFileSync(config, ['telemetryflow:', '  endpoint: 127.0.0.1:9', '  protocol: grpc', '  tls: {enabled: false}', 'agent:', `  data_dir: ${dir}`,
      'collectors:', '  system: {interval: 60s}', 'buffer: {enabled: false}', 'health: {enabled: false}', 'logging: {level: error}', ''].join('\n'));
    for (const node of nodeBinaries()) {
      const child = spawn(node, ['--expose-gc', '--require', preload, CLI, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      const deadline = Date.now() + 20_000;
      while (!/^freed: /m.test(output) && child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill('SIGTERM');
      await exited;
      assert.match(output, /^freed: loader,yaml$/m, `${node}: ${output}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
