import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../internal/config/errors';
import { loadConfig } from '../../internal/config/load';
import { tempDir } from './temp';

test('an invalid filter pattern fails validation, naming the list entry, with every bad one listed', () => {
  const { write, dir } = tempDir();
  const file = write('tfo-agent.yaml', [
    'collectors:',
    '  process:',
    '    processes: ["nginx", "/ngin[x/"]',
    '  system:',
    '    disk_options:',
    '      exclude: ["/(sd/"]',
    '    filesystem_options:',
    '      exclude_mountpoints: ["^/snap/", "(unclosed"]',
    '',
  ].join('\n'));
  let error: unknown;
  try {
    loadConfig({ file, env: {}, cwd: dir });
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof ConfigError, 'a bad pattern was accepted');
  assert.deepEqual(error.problems.map((p) => p.path).sort(), [
    'collectors.process.processes.1',
    'collectors.system.disk_options.exclude.0',
    'collectors.system.filesystem_options.exclude_mountpoints.1',
  ]);
  assert.match(error.message, /"\/ngin\[x\/" is not a valid name or \/regex\//);
});

test('plain names and valid /regex/ entries pass', () => {
  const { write, dir } = tempDir();
  const file = write('tfo-agent.yaml', 'collectors:\n  process:\n    processes: ["nginx", "/^java.*kafka/"]\n');
  assert.deepEqual(loadConfig({ file, env: {}, cwd: dir }).config.collectors.process.processes, ['nginx', '/^java.*kafka/']);
});
