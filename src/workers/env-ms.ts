// The workers' timings from the environment (ORCH_WORKER_*, ORCH_NO_WORKER_MS, ORCH_REDIS_LOST_MS, …): one reading
// of a number of milliseconds for the coordinator, the worker and the Redis connection.

/** A positive number of milliseconds from the environment, else the default. */
export function msFrom(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}
