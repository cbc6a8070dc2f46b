// Bounds the sends of a stopping pipeline. A collector that takes requests and never answers
// would otherwise hold the final export (and a replay in flight) for the whole export timeout,
// past agent.shutdown_timeout: the process would exit 1 with the last batch neither sent nor
// spilled. Cut short, the send ends as a retryable timeout, so the live batch spills and a
// replayed one stays in the buffer (at-least-once: the collector may still have taken it).
import type { OtlpTransport, SendResult } from './types';

export interface StoppableTransport extends OtlpTransport {
  /** From now on no send, in flight or new, waits longer than `budgetMs` from this call. */
  stopWithin(budgetMs: number): void;
}

export function stoppableTransport(transport: OtlpTransport): StoppableTransport {
  let cutShort: (result: SendResult) => void = () => undefined;
  const cut = new Promise<SendResult>((resolve) => (cutShort = resolve));
  let timer: NodeJS.Timeout | undefined;
  return {
    protocol: transport.protocol,
    target: transport.target,
    send: (body, timeoutMs) => Promise.race([transport.send(body, timeoutMs), cut]),
    close: async () => {
      clearTimeout(timer);
      await transport.close();
    },
    stopWithin(budgetMs) {
      if (timer !== undefined) return;
      const message = `no answer within ${budgetMs} ms of stopping (agent.shutdown_timeout)`;
      timer = setTimeout(() => cutShort({ outcome: 'retryable', reason: 'timeout', message }), budgetMs);
      timer.unref();
    },
  };
}
