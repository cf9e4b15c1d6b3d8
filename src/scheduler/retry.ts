import type { RetryPolicy } from '../specfile/model.js';
import { MAX_TIMER_MS } from '../util/timer-limit.js';

/**
 * Delay before attempt `next` (2, 3, …): fixed, or doubling from `delay`, capped by `max_delay`; a server's Retry-After
 * wins when longer. Never past what a timer can wait (a doubling or a Retry-After that far would otherwise fire at once).
 */
export function retryDelayMs(policy: RetryPolicy, next: number, retryAfterMs?: number): number {
  const base = policy.backoff === 'exponential' ? policy.delayMs * 2 ** (next - 2) : policy.delayMs;
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.min(Math.max(capped, retryAfterMs ?? 0), MAX_TIMER_MS);
}
