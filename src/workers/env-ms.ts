// The workers' timings from the environment (ORCH_WORKER_*, ORCH_NO_WORKER_MS, ORCH_REDIS_LOST_MS, …): one reading
// of a number of milliseconds for the coordinator, the worker and the Redis connection.
import { OrchestratorError } from '../errors.js';

/**
 * `env[name]` as a positive number of milliseconds; `defaultMs` when it is unset or empty. Anything else is a usage
 * error naming the variable, never a quiet return to the default (a typo would otherwise change nothing, silently).
 */
export function msFrom(env: NodeJS.ProcessEnv, name: string, defaultMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return defaultMs;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new OrchestratorError({ code: 'usage', message: `${name} must be a positive number of milliseconds, not "${raw}"` });
  return n;
}
