// Structured logging: one JSON line per event, or `time LEVEL msg key=value …` for people at a
// terminal, written to stdout (synchronous on Linux for files, pipes and terminals) or appended to
// logging.file. pino did this until 2026-11-29; the agent used none of its transports, and loading
// them (worker threads, a stream library, a redaction compiler) cost 0.5 MB of resident memory.
// The line format is pino's: level, time, service, the logger's bindings, the event's fields, msg.
import { MASK, maskUrlPassword } from '../config/secrets';
import type { LogFormat, LogLevel } from '../config/types';
import { RotatingFile } from './rotating-file';

export type LogFields = Record<string, unknown>;
type Level = LogLevel | 'fatal' | 'silent';

export interface Logger {
  /** Shared by a logger and its children: a reload changes it for all of them. */
  level: Level;
  debug(fields: LogFields, msg?: string): void;
  info(fields: LogFields, msg?: string): void;
  warn(fields: LogFields, msg?: string): void;
  error(fields: LogFields, msg?: string): void;
  fatal(fields: LogFields, msg?: string): void;
  /** A logger whose lines all carry `bindings` (e.g. `{ component: 'buffer' }`). */
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Set: each line goes to stdout and to this file, rotated at maxSizeMb keeping maxFiles. */
  file?: string;
  maxSizeMb?: number;
  maxFiles?: number;
  /** Overrides file/stdout; tests capture lines with it. Each line is one write. */
  destination?: NodeJS.WritableStream;
}

/** The message of anything thrown: what every log line's `err` field holds. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const SEVERITY: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

// A field with one of these names is replaced, at any depth, before a line is written.
const REDACTED_KEYS = new Set(['api_key_secret', 'apikeysecret', 'secret', 'password', 'token', 'authorization', 'x-telemetryflow-key-secret', 'x-api-key-secret']);

/**
 * A copy of `value` that JSON can write: secrets masked (by field name, and a URL's password in
 * any string), errors as { type, message, stack, … },
 * bigints as strings, a reference back to an enclosing object as "[Circular]".
 */
function loggable(value: unknown, ancestors: object[]): unknown {
  if (typeof value === 'string') return maskUrlPassword(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.includes(value)) return '[Circular]';
  ancestors.push(value);
  try {
    if (Array.isArray(value)) return value.map((item) => loggable(item, ancestors));
    const out: LogFields = {};
    if (value instanceof Error) Object.assign(out, { type: value.constructor.name, message: maskUrlPassword(value.message), stack: value.stack && maskUrlPassword(value.stack) });
    else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return loggable((value as { toJSON(): unknown }).toJSON(), ancestors);
    for (const [key, item] of Object.entries(value)) out[key] = REDACTED_KEYS.has(key.toLowerCase()) ? MASK : loggable(item, ancestors);
    return out;
  } finally {
    ancestors.pop();
  }
}

type Render = (level: Level, record: LogFields) => string;

const renderJson: Render = (_level, record) => `${JSON.stringify(record)}\n`;

const renderText: Render = (level, { level: _level, time, msg, ...rest }) => {
  const fields = Object.entries(rest).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(' ');
  return `${String(time)} ${level.toUpperCase().padEnd(5)} ${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
};

interface Sink {
  state: { level: Level };
  render: Render;
  out: NodeJS.WritableStream;
  /** logging.file, beside `out`. */
  file?: RotatingFile;
}

class StructuredLogger implements Logger {
  constructor(private readonly sink: Sink, private readonly bindings: LogFields) {}

  debug(fields: LogFields, msg?: string): void {
    this.write('debug', fields, msg);
  }

  info(fields: LogFields, msg?: string): void {
    this.write('info', fields, msg);
  }

  warn(fields: LogFields, msg?: string): void {
    this.write('warn', fields, msg);
  }

  error(fields: LogFields, msg?: string): void {
    this.write('error', fields, msg);
  }

  fatal(fields: LogFields, msg?: string): void {
    this.write('fatal', fields, msg);
  }

  get level(): Level {
    return this.sink.state.level;
  }

  set level(level: Level) {
    this.sink.state.level = level;
  }

  child(bindings: LogFields): Logger {
    return new StructuredLogger(this.sink, { ...this.bindings, ...bindings });
  }

  private write(level: Level, fields: LogFields, msg: string | undefined): void {
    if (SEVERITY[level] < SEVERITY[this.sink.state.level]) return;
    const record = loggable({ level, time: new Date().toISOString(), service: 'tfo-agent', ...this.bindings, ...fields, msg }, []) as LogFields;
    const line = this.sink.render(level, record);
    this.sink.out.write(line);
    this.sink.file?.append(Buffer.from(line));
  }
}

const MB = 1024 * 1024;

export function createLogger(options: LoggerOptions): Logger {
  const file = options.file
    ? new RotatingFile(options.file, { maxBytes: (options.maxSizeMb ?? 5) * MB, maxFiles: options.maxFiles ?? 5 })
    : undefined;
  const out = options.destination ?? process.stdout;
  return new StructuredLogger({ state: { level: options.level }, render: options.format === 'text' ? renderText : renderJson, out, file }, {});
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return new StructuredLogger({ state: { level: 'silent' }, render: renderJson, out: process.stdout }, {});
}
