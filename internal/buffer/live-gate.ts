import type { OtlpTransport, SendResult } from '../exporter/types';

/**
 * Puts live exports ahead of the backlog. The live exporter sends through `wrap(transport)`;
 * the replayer waits for `whenIdle()` before each request, so a fresh batch never queues behind
 * replayed ones, and it is told when a live export succeeded so it can stop backing off.
 */
export class LiveFirstGate {
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly successListeners = new Set<() => void>();

  wrap(transport: OtlpTransport): OtlpTransport {
    return {
      protocol: transport.protocol,
      target: transport.target,
      send: async (body: Uint8Array, timeoutMs: number): Promise<SendResult> => {
        this.inFlight += 1;
        try {
          const result = await transport.send(body, timeoutMs);
          if (result.outcome === 'ok') for (const listener of this.successListeners) listener();
          return result;
        } finally {
          this.inFlight -= 1;
          if (this.inFlight === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        }
      },
      close: () => transport.close(),
    };
  }

  /** Resolves at once when no live export is in flight, otherwise when the last one ends. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Calls `listener` after every successful live export; returns the unsubscribe function. */
  onLiveSuccess(listener: () => void): () => void {
    this.successListeners.add(listener);
    return () => this.successListeners.delete(listener);
  }
}
