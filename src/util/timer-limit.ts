// The longest wait a Node timer takes: setTimeout clamps anything longer (2^31 ms and up) to 1 ms, with a warning,
// so a longer limit would fire at once. Durations are checked against it where they are read, and computed waits
// (an exponential backoff, a server's Retry-After) are capped by it.

/** 2^31 - 1 ms: 24 days, 20 hours and 31 minutes. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `24d20h`, the limit as messages give it. */
export const MAX_TIMER_TEXT = '24d20h';
