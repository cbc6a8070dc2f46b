// TLS material for the collector connection, read once when the transport is created so a bad
// path fails at start (or reload) with the key's name, not at the first export.
import { readFileSync } from 'node:fs';
import type { TlsConfig } from '../config/types';

export const MIN_TLS_VERSION = 'TLSv1.2';

export interface TlsMaterial {
  /** Extra trust anchors; undefined means the system's CA store. */
  ca?: Buffer;
  /** Client certificate and key for mTLS. */
  cert?: Buffer;
  key?: Buffer;
  /** Do not verify the collector's certificate (tls.skip_verify). */
  skipVerify: boolean;
}

/** A TLS file that cannot be read; names the config key and the path. */
export class TlsFileError extends Error {
  constructor(
    readonly key: string,
    readonly path: string,
    cause: Error,
  ) {
    super(`telemetryflow.tls.${key}: cannot read ${JSON.stringify(path)}: ${cause.message}`, { cause });
    this.name = 'TlsFileError';
  }
}

function readTlsFile(key: 'ca_file' | 'cert_file' | 'key_file', path: string): Buffer | undefined {
  if (path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TlsFileError(key, path, error as Error);
  }
}

export function loadTlsMaterial(tls: TlsConfig): TlsMaterial {
  return {
    ca: readTlsFile('ca_file', tls.ca_file),
    cert: readTlsFile('cert_file', tls.cert_file),
    key: readTlsFile('key_file', tls.key_file),
    skipVerify: tls.skip_verify,
  };
}
