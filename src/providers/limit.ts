import pLimit, { type LimitFunction } from 'p-limit';
import { sleep } from '../util/sleep.js';

/** Thrown (and only ever caught by the LLM executor) when the job is cancelled while a request waits for its turn. */
export class WaitCancelled extends Error {
  constructor() {
    super('cancelled while waiting for the provider');
    this.name = 'WaitCancelled';
  }
}

/**
 * A provider's own limits, on top of the job's: at most `concurrency` requests in flight, and request starts
 * spaced 60 s / `requestsPerMinute` apart. Without either it lets everything through.
 */
export class ProviderLimiter {
  readonly #limit: LimitFunction | undefined;
  readonly #intervalMs: number;
  #nextStart = 0;

  constructor(o: { concurrency?: number; requestsPerMinute?: number }) {
    this.#limit = o.concurrency !== undefined ? pLimit(o.concurrency) : undefined;
    this.#intervalMs = o.requestsPerMinute !== undefined ? 60_000 / o.requestsPerMinute : 0;
  }

  /** Run `fn` when the provider's limits allow; rejects with WaitCancelled if `signal` aborts first. */
  run<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const go = async () => {
      if (signal.aborted) throw new WaitCancelled();
      if (this.#intervalMs > 0) {
        const now = Date.now();
        const start = Math.max(now, this.#nextStart);
        this.#nextStart = start + this.#intervalMs;
        await sleep(start - now, signal);
        if (signal.aborted) throw new WaitCancelled();
      }
      return fn();
    };
    return this.#limit ? this.#limit(go) : go();
  }
}
