import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';
import { onPath } from '../support/tools';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env }, timeout: 300_000 });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// One packed tarball, installed once into an empty prefix, serves every test in this file.
const work = mkdtempSync(join(tmpdir(), 'tfo-pack-'));
let installedBin = '';
let packedFiles: string[] = [];

test.before(() => {
  // dist/ is already built by `npm test`; packing must not rebuild it.
  const pack = run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work]);
  assert.equal(pack.status, 0, pack.stderr);
  const info = JSON.parse(pack.stdout)[0] as { filename: string; files: Array<{ path: string }> };
  packedFiles = info.files.map((f) => f.path);
  const prefix = join(work, 'prefix');
  // Building better-sqlite3 from source skips its attempt to download a prebuilt binary, which
  // can only time out on a machine that reaches nothing but the package registry.
  const install = run(npm, ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, info.filename)], {
    env: { npm_config_build_from_source: 'true' },
  });
  assert.equal(install.status, 0, install.stderr);
  installedBin = join(prefix, 'bin', 'tfo-agent');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the built agent and its config, and nothing of the development tree', () => {
  for (const needed of ['package.json', 'README.md', 'bin/tfo-agentd', 'dist/cmd/tfo-agent/main.js', 'configs/tfo-agent.yaml', 'deploy/systemd/tfo-agent.service', 'web/status/index.html', 'web/status/page.js', 'web/status/page.css']) {
    assert.ok(packedFiles.includes(needed), `${needed} missing from the tarball`);
  }
  const unwanted = packedFiles.filter((f) => /^(test|dist\/test|internal|cmd|scripts|\.ci|\.tools|deploy\/helm|docs)\//.test(f) || /\.ts$/.test(f) && !f.endsWith('.d.ts'));
  assert.deepEqual(unwanted, []);
});

// tfo-agentd is what the unit and the image run: the same CLI under the V8 flags of bin/tfo-agentd.
for (const command of ['tfo-agent', 'tfo-agentd']) {
  test(`the globally installed ${command} runs: version and config validate`, () => {
    const bin = join(work, 'prefix', 'bin', command);
    assert.ok(existsSync(bin), `bin/${command} not installed`);
    const version = run(bin, ['version', '--json']);
    assert.equal(version.status, 0, version.stderr);
    const parsed = JSON.parse(version.stdout) as { version: string };
    assert.equal(parsed.version, (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);

    const cfg = join(work, 'prefix', 'lib', 'node_modules', 'tfo-agent', 'configs', 'tfo-agent.yaml');
    const validate = run(bin, ['config', 'validate', '--config', cfg]);
    assert.equal(validate.status, 0, validate.stdout + validate.stderr);

    const bad = join(work, `bad-${command}.yaml`);
    writeFileSync(bad, 'telemetryflow:\n  protocol: carrier-pigeon\n');
    const invalid = run(bin, ['config', 'validate', '--config', bad]);
    assert.equal(invalid.status, 2);
    assert.match(invalid.stdout + invalid.stderr, /telemetryflow\.protocol/);
  });
}

test('the systemd unit passes systemd-analyze verify against the installed binary', { skip: !onPath('systemd-analyze') && 'systemd-analyze not installed' }, () => {
  const unit = readFileSync(join(REPO_ROOT, 'deploy', 'systemd', 'tfo-agent.service'), 'utf8');
  for (const directive of ['NoNewPrivileges=true', 'ProtectSystem=strict', 'ProtectHome=', 'PrivateTmp=true', 'Restart=always', 'ReadWritePaths=/var/lib/tfo-agent /var/log/tfo-agent', 'ExecReload=/bin/kill -HUP $MAINPID', 'User=tfo-agent', 'Environment="NODE_OPTIONS=--max-semi-space-size=1 --v8-pool-size=1 --jitless"']) {
    assert.ok(unit.includes(directive), `unit lacks ${directive}`);
  }
  // The unit names /usr/bin/tfo-agent (npm install -g --prefix /usr); verify checks that the
  // binary exists, so the copy under test points at the one installed above.
  const copy = join(work, 'tfo-agent.service');
  writeFileSync(copy, unit.replaceAll('/usr/bin/tfo-agent', installedBin));
  const verify = run('systemd-analyze', ['verify', copy]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  assert.equal(verify.stderr.trim(), '', verify.stderr);
});

test('the installed package carries no test fixtures or sources', () => {
  const root = join(work, 'prefix', 'lib', 'node_modules', 'tfo-agent');
  assert.deepEqual(readdirSync(root).filter((e) => ['test', 'internal', 'cmd', 'scripts'].includes(e)), []);
});
