import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root, found from the compiled test's location (dist/test/...). */
function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRoot(__dirname);
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
export const CLI = join(REPO_ROOT, 'dist', 'cmd', 'tfo-agent', 'main.js');
/** The service launcher: the CLI under the V8 flags NODE_OPTIONS cannot carry. */
export const SERVICE_LAUNCHER = join(REPO_ROOT, 'bin', 'tfo-agentd');

/** The NODE_OPTIONS the systemd unit sets (the image sets the same), so tests and benches cannot drift from them. */
export function shippedNodeOptions(): string {
  const unit = readFileSync(join(REPO_ROOT, 'deploy', 'systemd', 'tfo-agent.service'), 'utf8');
  const match = /^Environment="NODE_OPTIONS=([^"]*)"/m.exec(unit);
  if (!match) throw new Error('deploy/systemd/tfo-agent.service sets no NODE_OPTIONS');
  return match[1];
}
