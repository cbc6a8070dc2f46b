import { createLogger, type Logger } from '../../internal/log/logger';

/** A JSON logger writing to memory: its lines, and their event names, in order. */
export function logCapture(): { logger: Logger; lines(): Array<Record<string, unknown>>; events(): string[] } {
  let text = '';
  const destination = { write: (line: string) => ((text += line), true) } as unknown as NodeJS.WritableStream;
  const lines = (): Array<Record<string, unknown>> => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger: createLogger({ level: 'info', format: 'json', destination }), lines, events: () => lines().map((l) => String(l.event)) };
}
