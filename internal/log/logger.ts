import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { LogFormat, LogLevel } from '../config/types';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Empty or undefined: stdout. */
  file?: string;
  /** Overrides file/stdout; tests capture lines with it. */
  destination?: NodeJS.WritableStream;
}

// Any field with one of these names is replaced before a line is written, wherever it nests.
const REDACTED_KEYS = ['api_key_secret', 'apiKeySecret', 'secret', 'password', 'token', 'authorization'];
const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]).concat([
  'headers["x-telemetryflow-key-secret"]',
  'headers["x-api-key-secret"]',
  '*.headers["x-telemetryflow-key-secret"]',
  '*.headers["x-api-key-secret"]',
]);

/** Renders pino's JSON lines as `time LEVEL msg key=value …` for people reading a terminal. */
function textStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        try {
          const { time, level, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const fields = Object.entries(rest)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`)
            .join(' ');
          out.write(`${String(time)} ${String(level).toUpperCase().padEnd(5)} ${String(msg ?? '')}${fields ? ' ' + fields : ''}\n`);
        } catch {
          out.write(line + '\n');
        }
      }
      done();
    },
  });
}

export function createLogger(options: LoggerOptions): Logger {
  let out: NodeJS.WritableStream;
  if (options.destination) {
    out = options.destination;
  } else if (options.file) {
    mkdirSync(dirname(options.file), { recursive: true });
    out = createWriteStream(options.file, { flags: 'a' });
  } else {
    out = pino.destination({ dest: 1, sync: true }) as unknown as NodeJS.WritableStream;
  }
  const stream = options.format === 'text' ? textStream(out) : out;
  return pino(
    {
      level: options.level,
      base: { service: 'tfo-agent' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '***' },
    },
    stream as pino.DestinationStream,
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
