import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

/**
 * helm: the one on PATH, else the one `scripts/fetch-helm.sh` unpacked into .tools/ (git-ignored);
 * undefined when neither is there.
 */
export function helmBinary(): string | undefined {
  if (onPath('helm')) return 'helm';
  const unpacked = join(REPO_ROOT, '.tools', 'helm', 'helm');
  return existsSync(unpacked) ? unpacked : undefined;
}

/** Whether a command is on PATH. */
export function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
