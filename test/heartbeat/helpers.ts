import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as tls from 'node:tls';
import { defaultConfig } from '../../internal/config/defaults';
import type { AgentConfig } from '../../internal/config/types';
import { createLogger, type Logger } from '../../internal/log/logger';
import { makeCertificate } from '../support/certs';

/** A real logger whose lines the test can read back (raw text, as an operator would see it). */
export function captureLogger(): { logger: Logger; lines: string[]; events: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.length > 0));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', format: 'json', destination });
  return { logger, lines, events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** A config for heartbeat tests: the fake API as backend, short waits, its own data dir. */
export function heartbeatConfig(backend: string, dataDir: string, change: (c: AgentConfig) => void = () => {}): AgentConfig {
  const config = defaultConfig();
  config.telemetryflow.backend_endpoint = backend;
  config.telemetryflow.retry = { enabled: true, max_attempts: 3, initial_interval: 50, max_interval: 400 };
  config.heartbeat.interval = 60_000;
  config.heartbeat.timeout = 3000;
  config.agent.data_dir = dataDir;
  change(config);
  return config;
}

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'tfo-heartbeat-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * TLS in front of the fake API on `apiPort`, as a load balancer would terminate it, with a
 * certificate written to `{dir}/api.crt` (the CA file a client trusts).
 */
export async function startTlsTerminator(apiPort: number, dir: string): Promise<{ port: number; caFile: string; close: () => void }> {
  const cert = makeCertificate(dir, 'api');
  const terminator = tls.createServer({ cert: cert.pem, key: readFileSync(cert.keyFile) }, (client) => {
    const upstream = net.connect(apiPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
  return { port: (terminator.address() as net.AddressInfo).port, caFile: join(dir, 'api.crt'), close: () => terminator.close() };
}
