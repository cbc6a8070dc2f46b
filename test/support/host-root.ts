import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FIXTURES } from './paths';

/** A host root in a temp dir the test can rewrite between collections; `remove()` when done. */
export interface TempHostRoot {
  readonly root: string;
  /** Writes `text` at the host path (e.g. `/proc/stat`), creating directories. */
  write(hostPath: string, text: string): void;
  remove(): void;
}

/** A temp host root, optionally seeded from a fixture machine (`procfs/vm-6.18-2cpu`). */
export function tempHostRoot(fixture?: string, files: Record<string, string> = {}): TempHostRoot {
  const root = mkdtempSync(join(tmpdir(), 'tfo-host-'));
  if (fixture !== undefined) cpSync(join(FIXTURES, fixture), root, { recursive: true });
  const write = (hostPath: string, text: string): void => {
    const file = join(root, hostPath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  for (const [path, text] of Object.entries(files)) write(path, text);
  return { root, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** The fixture machine's folder, for read-only use as a host root. */
export function fixtureRoot(fixture: string): string {
  return join(FIXTURES, fixture);
}
