// A number of milliseconds from the environment (ORCH_KILL_GRACE_MS, ORCH_WORKER_*, ORCH_NO_WORKER_MS,
// ORCH_REDIS_LOST_MS, …): one reading for the process room, the coordinator, the worker and the Redis connection.
import { OrchestratorError } from '../errors.js';
import { MAX_TIMER_MS, MAX_TIMER_TEXT } from './timer-limit.js';

/**
 * `env[name]` as a number of milliseconds; `defaultMs` when it is unset or empty. It must be positive, or, with
 * `range`, a whole number within it. Anything else is a usage error naming the variable, never a quiet return to
 * the default (a typo would otherwise change nothing, silently).
 */
export function msFrom(env: NodeJS.ProcessEnv, name: string, defaultMs: number, range?: { min: number; max: number }): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return defaultMs;
  const n = Number(raw);
  if (range) {
    if (!/^\d+$/.test(raw) || n < range.min || n > range.max) throw usage(`${name} must be a whole number of milliseconds from ${range.min} to ${range.max}, not "${raw}"`);
  } else if (!Number.isFinite(n) || n <= 0) throw usage(`${name} must be a positive number of milliseconds, not "${raw}"`);
  else if (n > MAX_TIMER_MS) throw usage(`${name} must be at most ${MAX_TIMER_MS} milliseconds (${MAX_TIMER_TEXT}, the longest a timer waits), not "${raw}"`);
  return n;
}

function usage(message: string): OrchestratorError {
  return new OrchestratorError({ code: 'usage', message });
}
