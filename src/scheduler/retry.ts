import type { RetryPolicy } from '../spec/model.js';

/** Delay before attempt `next` (2, 3, …): fixed, or doubling from `delay`, capped by `max_delay`; a server's Retry-After wins when longer. */
export function retryDelayMs(policy: RetryPolicy, next: number, retryAfterMs?: number): number {
  const base = policy.backoff === 'exponential' ? policy.delayMs * 2 ** (next - 2) : policy.delayMs;
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.max(capped, retryAfterMs ?? 0);
}

/** Resolve after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
