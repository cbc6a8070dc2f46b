import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CLI, REPO_ROOT } from '../support/paths';

// No container engine runs here, so the Dockerfile is checked for what can be checked without
// building it: every path it copies exists, the commands it runs work, and its parts agree.
const dockerfile = readFileSync(join(REPO_ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');
const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const instr = (name: string) => lines.filter((l) => l.toUpperCase().startsWith(name + ' '));

test('multi-stage: a full build stage and a slim runtime on a current LTS', () => {
  const from = instr('FROM');
  assert.equal(from.length, 2);
  assert.match(from[0]!, /^FROM node:\$\{NODE_VERSION\}-bookworm AS build$/);
  assert.match(from[1]!, /^FROM node:\$\{NODE_VERSION\}-bookworm-slim$/);
  const major = Number(/ARG NODE_VERSION=(\d+)/.exec(dockerfile)?.[1]);
  assert.ok(major >= 22 && major % 2 === 0, `NODE_VERSION ${major} is not an LTS line this agent supports`);
  assert.match(dockerfile, /npm prune --omit=dev/);
  // The small young generation that keeps the peak RSS near the steady state, and no JIT (docs/PERFORMANCE.md).
  assert.match(dockerfile, /NODE_OPTIONS="--max-semi-space-size=1 --v8-pool-size=1 --jitless"/);
});

test('the image, the systemd unit and README\'s start command run tfo-agentd with the same Node options', () => {
  const image = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1];
  const unit = /^Environment="NODE_OPTIONS=([^"]*)"/m.exec(readFileSync(join(REPO_ROOT, 'deploy', 'systemd', 'tfo-agent.service'), 'utf8'))?.[1];
  const start = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  assert.ok(image, 'the Dockerfile sets NODE_OPTIONS');
  assert.equal(unit, image);
  assert.ok(start.startsWith(`NODE_OPTIONS='${image}' sh bin/tfo-agentd start `), start);
});

test('every file the Dockerfile copies from the context exists', () => {
  for (const copy of instr('COPY').filter((l) => !l.includes('--from='))) {
    const parts = copy.split(/\s+/).slice(1);
    for (const src of parts.slice(0, -1)) assert.ok(existsSync(join(REPO_ROOT, src)), `COPY source ${src} missing`);
  }
});

test('what the runtime stage takes from the build exists after a build', () => {
  for (const copy of instr('COPY').filter((l) => l.includes('--from=build'))) {
    const src = copy.split(/\s+/)[2]!.replace(/^\/src\//, '');
    if (src === 'node_modules' || src === 'package.json') continue;
    assert.ok(existsSync(join(REPO_ROOT, src)), `build output ${src} missing`);
  }
  const main = join(REPO_ROOT, 'dist', 'cmd', 'tfo-agent', 'main.js');
  assert.match(readFileSync(main, 'utf8').split('\n')[0]!, /^#!\/usr\/bin\/env node/);
  assert.ok(statSync(main).isFile());
});

test('entrypoint, command, default config path and buffer path', () => {
  assert.deepEqual(JSON.parse(instr('ENTRYPOINT')[0]!.slice('ENTRYPOINT '.length)), ['tfo-agentd']);
  assert.deepEqual(JSON.parse(instr('CMD')[0]!.slice('CMD '.length)), ['start', '--config', '/etc/tfo-agent/tfo-agent.yaml']);
  assert.ok(instr('COPY').some((l) => l.endsWith('deploy/docker/tfo-agent.yaml /etc/tfo-agent/tfo-agent.yaml')));
  const baked = parse(readFileSync(join(REPO_ROOT, 'deploy', 'docker', 'tfo-agent.yaml'), 'utf8'));
  assert.equal(baked.buffer.path, '/var/lib/tfo-agent/buffer');
  assert.match(dockerfile, /VOLUME \["\/var\/lib\/tfo-agent"\]/);
  for (const label of ['title', 'version', 'revision', 'source', 'licenses']) assert.match(dockerfile, new RegExp(`org\\.opencontainers\\.image\\.${label}=`));
});

test("the HEALTHCHECK probes the port the baked config's health listener uses", () => {
  const baked = parse(readFileSync(join(REPO_ROOT, 'deploy', 'docker', 'tfo-agent.yaml'), 'utf8'));
  const port = String(baked.health.address).split(':').pop();
  const check = instr('HEALTHCHECK')[0]!;
  assert.ok(check.includes(`:${port}/health`), check);
  assert.equal(baked.health.enabled, true);
});

test('the build-time smoke tests pass here: version and validation of the baked config', () => {
  const version = spawnSync(process.execPath, [CLI, 'version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  const validate = spawnSync(process.execPath, [CLI, 'config', 'validate', '--config', join(REPO_ROOT, 'deploy', 'docker', 'tfo-agent.yaml')], { encoding: 'utf8', env: { ...process.env, TELEMETRYFLOW_ENDPOINT: '' } });
  assert.equal(validate.status, 0, validate.stdout + validate.stderr);
});

test('.dockerignore keeps the context small and secrets out', () => {
  const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['.git', 'node_modules', 'dist']) assert.ok(ignore.includes(entry), `.dockerignore lacks ${entry}`);
});
