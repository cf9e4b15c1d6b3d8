// Which workers are connected: each keeps a small hash in Redis (its tags, slots and load) that expires when it
// stops renewing it, so a worker killed with kill -9 drops out on its own, and its name in a set, which is what a
// reader walks: `workers`, `doctor`, the coordinator's start and its "no worker" wait. A scan for the hashes would
// walk the whole keyspace, two keys per attempt of the last day and whatever else shares the Redis.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { workerKey, workersSetKey } from './protocol.js';

/** A connected worker, as it last said. */
export interface WorkerInfo {
  name: string;
  tags: string[];
  concurrency: number;
  /** Attempts it is running. */
  running: number;
  host: string;
  pid: number;
  started_at: string;
}

/** What a worker says of itself. */
export interface HeartbeatOptions {
  redis: Redis;
  name: string;
  tags: string[];
  concurrency: number;
  load: () => number;
  everyMs: number;
}

/** Keep saying that this worker is here, every `everyMs`; the returned function stops and removes the entry. */
export function heartbeatWorker(o: HeartbeatOptions): () => Promise<void> {
  const key = workerKey(o.name);
  const started = new Date().toISOString();
  const beat = () =>
    o.redis
      .multi()
      .hset(key, { name: o.name, tags: o.tags.join(','), concurrency: o.concurrency, running: o.load(), host: hostname(), pid: process.pid, started_at: started })
      .pexpire(key, o.everyMs * 3)
      .sadd(workersSetKey(), o.name)
      .exec()
      .catch(() => undefined); // a lost connection is reported by the connection itself
  void beat();
  const timer = setInterval(() => void beat(), o.everyMs);
  return async () => {
    clearInterval(timer);
    await o.redis.multi().del(key).srem(workersSetKey(), o.name).exec().catch(() => undefined);
  };
}

/** Every connected worker, by name: the set's names whose hash has not expired. O(workers), in two round trips. */
export async function listWorkers(redis: Redis): Promise<WorkerInfo[]> {
  const names = await redis.smembers(workersSetKey());
  const read = names.length ? ((await names.reduce((p, name) => p.hgetall(workerKey(name)), redis.pipeline()).exec()) ?? []) : [];
  const workers: WorkerInfo[] = [];
  const gone: string[] = [];
  read.forEach(([error, value], i) => {
    const h = (error ? {} : value) as Record<string, string>;
    if (!h.name) return void gone.push(names[i]!); // its hash expired: the worker stopped beating (kill -9)
    workers.push({ name: h.name, tags: h.tags ? h.tags.split(',') : [], concurrency: Number(h.concurrency), running: Number(h.running), host: h.host ?? '', pid: Number(h.pid), started_at: h.started_at ?? '' });
  });
  // A name whose hash is gone leaves the set; a worker that beats again (it was only slow) puts it back.
  if (gone.length) await redis.srem(workersSetKey(), ...gone);
  // By code unit, not localeCompare: its first call sets up ICU's collator, ~18 ms of every run's start with workers.
  return workers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
