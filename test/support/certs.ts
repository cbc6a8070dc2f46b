import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate's PEM, to trust it as its own CA. */
  pem: Buffer;
}

/** A fresh self-signed certificate for 127.0.0.1 and localhost, written into `dir` as NAME.crt/NAME.key. */
export function makeCertificate(dir: string, name: string, commonName = 'tfo-agent api test'): TestCertificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${commonName}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE',
  ], { stdio: 'ignore' });
  return { certFile, keyFile, pem: readFileSync(certFile) };
}

/**
 * Two certificates (CNs `NAME first`, `NAME second`) and one pair of live files holding the first;
 * `rotate()` copies the second over them, as a certificate renewal does.
 */
export function rotatingCertificate(dir: string, name: string): { certFile: string; keyFile: string; first: TestCertificate; second: TestCertificate; rotate(): void } {
  const first = makeCertificate(dir, `${name}-first`, `${name} first`);
  const second = makeCertificate(dir, `${name}-second`, `${name} second`);
  const certFile = join(dir, `${name}-live.crt`);
  const keyFile = join(dir, `${name}-live.key`);
  copyFileSync(first.certFile, certFile);
  copyFileSync(first.keyFile, keyFile);
  return {
    certFile,
    keyFile,
    first,
    second,
    rotate: () => {
      copyFileSync(second.certFile, certFile);
      copyFileSync(second.keyFile, keyFile);
    },
  };
}
