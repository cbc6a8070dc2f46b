import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, REPO_ROOT, SERVICE_LAUNCHER, shippedNodeOptions } from '../support/paths';
import { startOtlpReceiver } from '../support/otlp-receiver';

// The agent must run on the Node LTS lines after 20. The npm packages node@22 and node@24 carry
// real Node binaries; they are installed once into .tools/ (git-ignored).
function nodeBinary(major: number): string | undefined {
  const prefix = join(REPO_ROOT, '.tools', `node${major}`);
  const binary = join(prefix, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(prefix, { recursive: true });
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `node@${major}`], { encoding: 'utf8', timeout: 240_000 });
    if (r.status !== 0) return undefined;
  }
  return existsSync(binary) ? binary : undefined;
}


const env = (): NodeJS.ProcessEnv => {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TELEMETRYFLOW_|OTEL_)/.test(k)) out[k] = v;
  // The Node options the systemd unit and the image run the agent with, checked on these lines too.
  out.NODE_OPTIONS = shippedNodeOptions();
  return out;
};

for (const major of [22, 24]) {
  test(`on Node ${major}, with the shipped Node options: version, config validate, and a real export through tfo-agentd`, async (t) => {
    const node = nodeBinary(major);
    if (node === undefined) {
      t.skip(`node@${major} could not be installed from the npm registry`);
      return;
    }
    const version = spawnSync(node, [CLI, 'version', '--json'], { encoding: 'utf8', env: env() });
    assert.equal(version.status, 0, version.stderr);
    assert.match(String((JSON.parse(version.stdout) as { node: string }).node), new RegExp(`^v?${major}\\.`));

    const validate = spawnSync(node, [CLI, 'config', 'validate', '--config', join(REPO_ROOT, 'configs', 'tfo-agent.yaml')], { encoding: 'utf8', env: env(), cwd: REPO_ROOT });
    assert.equal(validate.status, 0, validate.stdout + validate.stderr);

    // Through the launcher, with the unit's --jitless: no V8 warning on stderr, on any line.
    const launched = spawnSync('/bin/sh', [SERVICE_LAUNCHER, 'version'], { encoding: 'utf8', env: { ...env(), TFO_AGENT_NODE: node } });
    assert.equal(launched.status, 0, launched.stderr);
    assert.match(launched.stdout, new RegExp(`Node\\.js ${major}\\.`));
    assert.equal(launched.stderr, '');

    // better-sqlite3 is compiled for the Node that ran `npm ci`, so this run keeps the buffer off:
    // what is checked is that the rest of the agent loads and exports on this Node.
    const receiver = await startOtlpReceiver();
    const dir = mkdtempSync(join(tmpdir(), `tfo-node${major}-`));
    try {
      const config = join(dir, 'tfo-agent.yaml');
      writeFileSync(config, [
        'telemetryflow:',
        `  endpoint: ${receiver.grpcAddress}`,
        '  protocol: grpc',
        '  tls: {enabled: false}',
        'agent:',
        `  data_dir: ${dir}`,
        'collectors:',
        '  system: {interval: 60s}',
        'buffer: {enabled: false}',
        'health: {enabled: false}',
        '',
      ].join('\n'));
      // Through tfo-agentd, as the unit and the image start it: its V8 flags must hold on this Node too.
      const child = spawn('/bin/sh', [SERVICE_LAUNCHER, 'start', '--config', config], { env: { ...env(), TFO_AGENT_NODE: node }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await receiver.waitFor((r) => r.metricNames().includes('system.memory.usage'), 15_000);
      } catch (err) {
        child.kill('SIGKILL');
        throw new Error(`no export from Node ${major}: ${String(err)}\n${output}`);
      }
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
    } finally {
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
