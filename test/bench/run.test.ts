import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

// The runner itself: a failing suite must not leave the run (or what the suite started) alive.

const RUNNER = join(__dirname, 'run.js');

/** A suite that starts a process tree and a listening server, then fails. */
const FAILING_SUITE = `
const { spawn } = require('node:child_process');
const { createServer } = require('node:net');
const { join } = require('node:path');
exports.run = async () => {
  const dir = process.env.TEST_PIDS_DIR;
  const child = spawn('sh', ['-c', 'sleep 300 & echo $! > ' + join(dir, 'grandchild') + '; wait'], { stdio: 'ignore' });
  require('node:fs').writeFileSync(join(dir, 'child'), String(child.pid));
  createServer().listen(0, '127.0.0.1');
  while (!require('node:fs').existsSync(join(dir, 'grandchild'))) await new Promise((r) => setTimeout(r, 20));
  throw new Error('forced failure');
};
`;

const PASSING_SUITE = `
exports.run = async () => ({ title: 'passing', figures: [{ name: 'one', value: 1, unit: 'x' }] });
`;

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

async function runBench(dir: string, filter: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [RUNNER, ...filter], {
    env: { ...process.env, BENCH_SUITES_DIR: join(dir, 'suites'), BENCH_RESULTS: join(dir, 'results.json'), TEST_PIDS_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A runner that does not exit is the failure under test: stop it, by its pid, and say so.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

test('a failing suite: the run stops what it started, still reports the others, and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-bench-run-'));
  const pids: number[] = [];
  try {
    const suites = join(dir, 'suites');
    mkdirSync(suites);
    writeFileSync(join(suites, 'failing.js'), FAILING_SUITE);
    writeFileSync(join(suites, 'passing.js'), PASSING_SUITE);
    const { code, output } = await runBench(dir, []);
    for (const name of ['child', 'grandchild']) if (existsSync(join(dir, name))) pids.push(Number(readFileSync(join(dir, name), 'utf8')));
    assert.equal(pids.length, 2, output);
    assert.equal(code, 1, `exit code ${code}: ${output}`);
    assert.match(output, /failing\.js: FAILED[\s\S]*forced failure/);
    assert.match(output, /stopped what the suites left running: .*sh \(\d+\)/);
    for (const pid of pids) assert.equal(running(pid), false, `process ${pid} the suite started is still running`);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { suites: Array<{ suite: string; error?: string; section?: { title: string } }> };
    assert.deepEqual(results.suites.map((s) => [s.suite, s.error === undefined, s.section?.title]), [['failing.js', false, undefined], ['passing.js', true, 'passing']]);

    const passing = await runBench(dir, ['passing']);
    assert.equal(passing.code, 0, passing.output);
  } finally {
    for (const pid of pids) if (running(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
