// TLS material of the agent's connections (OTLP exporter and heartbeat out, the local API's
// listener in): read once, so a bad path fails at start (or reload) with the key's name, not at
// the first request; read again when a file changes on disk (a rotated certificate) or on SIGHUP,
// so a renewed certificate is picked up without a restart and without reading files per request.
import { readFileSync, statSync } from 'node:fs';
import type { TlsConfig } from '../config/types';

export const MIN_TLS_VERSION = 'TLSv1.2';

export interface TlsMaterial {
  /** Extra trust anchors; undefined means the system's CA store. */
  ca?: Buffer;
  /** Client certificate and key for mTLS. */
  cert?: Buffer;
  key?: Buffer;
  /** Do not verify the peer's certificate (tls.skip_verify). */
  skipVerify: boolean;
}

type TlsFileKey = 'ca_file' | 'cert_file' | 'key_file';
const FILE_KEYS: readonly TlsFileKey[] = ['ca_file', 'cert_file', 'key_file'];

/** The files of one `tls:` section (a listener's has no CA and verifies nobody). */
export type TlsFiles = Partial<TlsConfig>;

/** A TLS file that cannot be read; names the config key (e.g. `api.tls.cert_file`) and the path. */
export class TlsFileError extends Error {
  constructor(
    readonly key: string,
    readonly path: string,
    cause: Error,
  ) {
    super(`${key}: cannot read ${JSON.stringify(path)}: ${cause.message}`, { cause });
    this.name = 'TlsFileError';
  }
}

function readTlsFile(key: string, path: string | undefined): Buffer | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TlsFileError(key, path, error as Error);
  }
}

/** `section` names the files' keys in errors. */
export function loadTlsMaterial(tls: TlsFiles, section = 'telemetryflow.tls'): TlsMaterial {
  return {
    ca: readTlsFile(`${section}.ca_file`, tls.ca_file),
    cert: readTlsFile(`${section}.cert_file`, tls.cert_file),
    key: readTlsFile(`${section}.key_file`, tls.key_file),
    skipVerify: tls.skip_verify ?? false,
  };
}

// Bumped by SIGHUP: every source reads its files again on its next use.
let generation = 0;

/** Makes every TlsSource read its files again on next use (SIGHUP). */
export function rereadTlsFiles(): void {
  generation += 1;
}

/** What identifies one version of a file: a rename, a rewrite or a touch changes it. */
function fileStamp(path: string): string {
  if (path === '') return '';
  try {
    const stat = statSync(path, { bigint: true });
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

/**
 * The material of one `tls:` section. `current()` is the material last read; it reads the files
 * again when one changed or after rereadTlsFiles(). A file that cannot be read then (a rotation
 * half done) keeps the previous material, and the next call tries again.
 */
export class TlsSource {
  private material: TlsMaterial;
  private stamps: string;
  private readGeneration = generation;

  /** Throws TlsFileError (naming `section`'s key) when a file cannot be read now. */
  constructor(
    private readonly config: TlsFiles,
    private readonly section = 'telemetryflow.tls',
  ) {
    this.stamps = this.currentStamps();
    this.material = loadTlsMaterial(config, section);
  }

  current(): TlsMaterial {
    if (this.currentStamps() === this.stamps && this.readGeneration === generation) return this.material;
    try {
      return this.reread();
    } catch {
      // Keep the material that worked; the stamps stay old so the next call reads again.
      return this.material;
    }
  }

  /** Reads the files now; throws TlsFileError and keeps the previous material when one cannot be read. */
  reread(): TlsMaterial {
    const stamps = this.currentStamps();
    this.material = loadTlsMaterial(this.config, this.section);
    this.stamps = stamps;
    this.readGeneration = generation;
    return this.material;
  }

  private currentStamps(): string {
    return FILE_KEYS.map((key) => fileStamp(this.config[key] ?? '')).join('|');
  }
}
