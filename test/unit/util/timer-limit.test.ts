// Waits longer than a Node timer takes (2^31 ms) would fire at once: they are refused where read, capped where computed.
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../../src/scheduler/retry.js';
import { msFrom } from '../../../src/util/env-ms.js';
import { MAX_TIMER_MS } from '../../../src/util/timer-limit.js';

describe('the longest wait', () => {
  it('caps a doubling backoff and a server\'s Retry-After at what a timer can wait', () => {
    const policy = { attempts: 40, delayMs: 1000, backoff: 'exponential' as const, maxDelayMs: Infinity };
    expect(retryDelayMs(policy, 3)).toBe(2000);
    expect(retryDelayMs(policy, 35)).toBe(MAX_TIMER_MS); // 1 s doubled 33 times: ~272 years
    expect(retryDelayMs({ ...policy, backoff: 'fixed' }, 2, 1e12)).toBe(MAX_TIMER_MS);
  });

  it('refuses a millisecond variable past it, naming the variable', () => {
    expect(msFrom({ X_MS: String(MAX_TIMER_MS) }, 'X_MS', 5)).toBe(MAX_TIMER_MS);
    expect(() => msFrom({ X_MS: '3000000000' }, 'X_MS', 5)).toThrow('X_MS must be at most 2147483647 milliseconds (24d20h, the longest a timer waits), not "3000000000"');
  });
});
