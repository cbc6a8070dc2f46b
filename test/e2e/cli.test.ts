import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI, REPO_ROOT } from '../support/paths';
import { agentConfig, cleanEnv, runCli, tempWorkspace, type CliResult } from './agent-process';

const workspace = tempWorkspace('tfo-cli-');
after(() => workspace.cleanup());

const packageVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const SECRET = 'tfs_do_not_print_me_4711';

function validConfig(name = 'valid.yaml'): string {
  return workspace.file(name, stringify(agentConfig({ protocol: 'grpc', endpoint: '127.0.0.1:4317', dataDir: workspace.dir, apiKeySecret: SECRET })));
}

/** A configuration error: exit 2, the reason on stderr, no stack trace. */
function assertConfigError(result: CliResult, mentions: RegExp): void {
  const output = result.stdout + result.stderr;
  assert.equal(result.status, 2, output);
  assert.match(result.stderr, mentions);
  assert.doesNotMatch(output, /\n\s+at .+:\d+:\d+/, 'a stack trace was printed');
}

test('version prints the package version, Node.js version and platform in three forms', () => {
  const short = runCli(['version', '--short']);
  assert.equal(short.status, 0, short.stderr);
  assert.equal(short.stdout.trim(), packageVersion);

  const json = runCli(['version', '--json'], { env: { TFO_AGENT_COMMIT: 'abc1234' } });
  assert.equal(json.status, 0, json.stderr);
  const info = JSON.parse(json.stdout) as Record<string, string>;
  assert.equal(info.version, packageVersion);
  assert.equal(info.commit, 'abc1234');
  assert.equal(info.node, process.versions.node);
  assert.equal(info.os, 'linux');
  assert.ok(['amd64', 'arm64'].includes(info.arch) || info.arch.length > 0);

  const plain = runCli(['version']);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, new RegExp(`^tfo-agent ${packageVersion.replace(/\./g, '\\.')}, Node\\.js ${process.versions.node}, linux/`));
  assert.doesNotMatch(plain.stdout, /commit/, 'no commit claimed when none is known');
});

test('config validate: exit 0 and a summary for a valid file', () => {
  const result = runCli(['config', 'validate', '--config', validConfig()]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /127\.0\.0\.1:4317/);
  assert.ok(!(result.stdout + result.stderr).includes(SECRET), 'secret printed');
});

test('config validate: exit 2 and every problem listed', () => {
  const bad = workspace.file('two-problems.yaml', 'telemetryflow:\n  protocol: carrier-pigeon\ncollectors:\n  system:\n    interval: "5"\n');
  const result = runCli(['config', 'validate', '-c', bad]);
  assertConfigError(result, /telemetryflow\.protocol/);
  assert.match(result.stderr, /collectors\.system\.interval: "5" is not a duration/);
});

test('config show prints the effective config with the secret masked, from file and environment', () => {
  const result = runCli(['config', 'show', '-c', validConfig()], { env: { TELEMETRYFLOW_AGENT_NAME: 'from-env' } });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /api_key_secret: "?\*\*\*"?/);
  assert.match(result.stdout, /name: from-env/);
  assert.ok(!(result.stdout + result.stderr).includes(SECRET), 'secret printed');
});

test('start with a config file that does not exist: exit 2 naming the file', () => {
  assertConfigError(runCli(['start', '--config', join(workspace.dir, 'missing.yaml')]), /missing\.yaml.*does not exist/);
});

test('start with broken YAML: exit 2 with line and column', () => {
  const broken = workspace.file('broken.yaml', 'telemetryflow:\n  endpoint: [unclosed\nagent:\n  name: x\n');
  assertConfigError(runCli(['start', '-c', broken]), /line \d+/i);
});

test('start with a self-referential alias or a billion-laughs file: exit 2, not a crash', () => {
  const recursive = workspace.file('recursive.yaml', 'agent:\n  tags: &t {x: *t}\n');
  assertConfigError(runCli(['start', '--config', recursive]), /alias \*t refers to a node that contains it/);
  const laughs = ['a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]'];
  for (const [name, previous] of ['ba', 'cb', 'dc', 'ed', 'fe', 'gf', 'hg', 'ih']) laughs.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
  assertConfigError(runCli(['start', '--config', workspace.file('laughs.yaml', laughs.join('\n') + '\n')]), /Excessive alias count/);
});

test('start with an export header that cannot be sent: exit 2 (a configuration error), not 1', () => {
  const bad = workspace.file('bad-header.yaml', 'exporter:\n  otlp:\n    headers:\n      "X Bad": v\n');
  assertConfigError(runCli(['start', '--config', bad]), /exporter\.otlp\.headers\.X Bad: cannot be sent: not a valid header name/);
  assertConfigError(runCli(['config', 'validate', '--config', bad]), /X Bad/);
});

test('a config from a pipe is read; one from an endless device is refused at the size limit (exit 2)', () => {
  const piped = spawnSync('bash', ['-c', `"$0" "$1" config validate --config <(cat "$2")`, process.execPath, CLI, validConfig('piped.yaml')], { encoding: 'utf8', env: cleanEnv(), timeout: 20_000 });
  assert.equal(piped.status, 0, piped.stdout + piped.stderr);
  assertConfigError(runCli(['start', '--config', '/dev/zero']), /config file is longer than the limit of 1048576 bytes/);
});

test('placeholders that would expand the file into gigabytes: exit 2, not out of memory', () => {
  const file = workspace.file('expands.yaml', `agent:\n  description: "${'${B}'.repeat(200_000)}"\n`);
  assertConfigError(runCli(['config', 'validate', '--config', file], { env: { B: 'x'.repeat(100_000) } }), /agent\.description: placeholders expand the configuration past 16777216 characters/);
});

test('start with a bad value: exit 2 naming key, value and expectation', () => {
  const bad = workspace.file('bad-value.yaml', 'collectors:\n  system:\n    interval: "5"\n');
  assertConfigError(runCli(['-c', bad]), /collectors\.system\.interval: "5" is not a duration, e\.g\. "15s"/);
});

test('start with an unreadable host root: exit 2 naming host_root', () => {
  const config = validConfig('host-root.yaml');
  assertConfigError(runCli(['start', '-c', config], { env: { TELEMETRYFLOW_HOST_ROOT: join(workspace.dir, 'no-such-root') } }), /host_root/);
  assertConfigError(runCli(['start', '-c', config, '--host-root', config]), /host_root/);
});

test('an unknown flag is a usage error (exit 2), not a crash', () => {
  const result = runCli(['start', '--no-such-flag']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown option '--no-such-flag'/);
});

test('a mistyped command is named as an unknown command (exit 2), not as an argument of start', () => {
  for (const [args, word] of [[['conifg', 'validate'], 'conifg'], [['start', 'extra'], 'extra']] as const) {
    const result = runCli([...args]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`unknown command '${word}'`));
  }
});
