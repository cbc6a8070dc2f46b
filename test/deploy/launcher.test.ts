import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVICE_LAUNCHER, CLI, shippedNodeOptions } from '../support/paths';
import { startOtlpReceiver } from '../support/otlp-receiver';

const work = mkdtempSync(join(tmpdir(), 'tfo-launcher-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** A package laid out as installed, whose main.js reports what Node and V8 started it with. */
function probePackage(): string {
  const root = mkdtempSync(join(work, 'pkg-'));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist', 'cmd', 'tfo-agent'), { recursive: true });
  copyFileSync(SERVICE_LAUNCHER, join(root, 'bin', 'tfo-agentd'));
  writeFileSync(join(root, 'dist', 'cmd', 'tfo-agent', 'main.js'),
    'console.log(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2), random: Math.random(), main: __filename }));\n');
  // As npm install -g links it: a symlink from another directory.
  mkdirSync(join(root, 'usr-bin'));
  symlinkSync(join(root, 'bin', 'tfo-agentd'), join(root, 'usr-bin', 'tfo-agentd'));
  return root;
}

interface Probe { execArgv: string[]; argv: string[]; random: number; main: string }

function launch(launcher: string, args: string[]): Probe {
  const r = spawnSync('/bin/sh', [launcher, ...args], { encoding: 'utf8', env: { ...process.env, TFO_AGENT_NODE: process.execPath } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Probe;
}

const seedOf = (p: Probe): number => Number(p.execArgv.find((a) => a.startsWith('--random-seed='))?.split('=')[1]);

test('tfo-agentd runs the package\'s main.js in V8\'s predictable mode with its arguments untouched, also through a symlink', () => {
  const root = probePackage();
  const probe = launch(join(root, 'usr-bin', 'tfo-agentd'), ['start', '--config', '/etc/a b.yaml', '']);
  assert.equal(probe.main, join(root, 'dist', 'cmd', 'tfo-agent', 'main.js'));
  assert.deepEqual(probe.argv, ['start', '--config', '/etc/a b.yaml', '']);
  assert.ok(probe.execArgv.includes('--predictable'), probe.execArgv.join(' '));
  // gc() for the memory reducer's stand-in (internal/agent/heap-trim.ts); no WebAssembly, which
  // --jitless turns off anyway, where this node has the flag (Node 24 has not).
  assert.ok(probe.execArgv.includes('--expose-gc'), probe.execArgv.join(' '));
  const hasWasmFlag = spawnSync(process.execPath, ['--no-expose-wasm', '--version']).status === 0;
  assert.equal(probe.execArgv.includes('--no-expose-wasm'), hasWasmFlag, probe.execArgv.join(' '));
  const seed = seedOf(probe);
  assert.ok(Number.isInteger(seed) && seed >= 1 && seed <= 2 ** 31 - 1, `seed ${seed}`);
});

test('each start gets a new random seed, so Math.random (and V8\'s string hashing) are not the fixed ones of predictable mode', () => {
  const root = probePackage();
  const launcher = join(root, 'bin', 'tfo-agentd');
  const runs = [launch(launcher, []), launch(launcher, []), launch(launcher, [])];
  assert.equal(new Set(runs.map(seedOf)).size, 3, runs.map(seedOf).join(' '));
  assert.equal(new Set(runs.map((r) => r.random)).size, 3);
  // Without the seed, predictable mode starts every process on the same sequence.
  const fixed = [0, 1].map(() => spawnSync(process.execPath, ['--predictable', '-p', 'Math.random()'], { encoding: 'utf8' }).stdout);
  assert.equal(fixed[0], fixed[1]);
  assert.ok(!runs.some((r) => `${r.random}\n` === fixed[0]));
});

test('the launched agent, with the unit\'s Node options, is the process the service manager started (exec), exports, stops cleanly on SIGTERM, and writes nothing to stderr', async () => {
  const receiver = await startOtlpReceiver();
  const dir = mkdtempSync(join(work, 'agent-'));
  const config = join(dir, 'tfo-agent.yaml');
  writeFileSync(config, [
    'telemetryflow:', `  endpoint: ${receiver.grpcAddress}`, '  protocol: grpc', '  tls: {enabled: false}',
    'agent:', `  data_dir: ${dir}`,
    'collectors:', '  system:', '    interval: 1s',
    'buffer:', '  enabled: true', `  path: ${join(dir, 'buffer')}`,
    'health:', '  enabled: false', 'api:', '  enabled: false', 'logging:', '  level: warn', '',
  ].join('\n'));
  const env = { ...process.env, TFO_AGENT_NODE: process.execPath, NODE_OPTIONS: shippedNodeOptions() };
  const child = spawn('/bin/sh', [SERVICE_LAUNCHER, 'start', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { output += c.toString(); stderr += c.toString(); });
  try {
    const deadline = Date.now() + 20_000;
    while (receiver.accepted().length < 2 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    assert.ok(receiver.accepted().length >= 2, `no exports through the launcher: ${output}`);
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    assert.equal(cmdline[0], process.execPath);
    assert.ok(cmdline.includes('--predictable'), cmdline.join(' '));
    assert.ok(cmdline.some((a) => resolve(a) === CLI), cmdline.join(' '));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, output);
    // At level warn a healthy start and stop log nothing: in particular not V8's line about
    // --jitless turning off WebAssembly, which is no line of the agent's format.
    assert.equal(stderr, '');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await receiver.close();
  }
});
