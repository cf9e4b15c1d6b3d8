// Which workers are connected: each keeps a small hash in Redis (its tags, slots and load) that expires when it
// stops renewing it, so a worker killed with kill -9 drops out on its own. `workers`, `doctor` and the
// coordinator's "no worker" wait read it.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { KEY_PREFIX, workerKey } from './protocol.js';

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
      .exec()
      .catch(() => undefined); // a lost connection is reported by the connection itself
  void beat();
  const timer = setInterval(() => void beat(), o.everyMs);
  return async () => {
    clearInterval(timer);
    await o.redis.del(key).catch(() => undefined);
  };
}

/** Every connected worker, by name. */
export async function listWorkers(redis: Redis): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}:worker:*`, 'COUNT', 100);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const workers: WorkerInfo[] = [];
  for (const key of keys) {
    const h = await redis.hgetall(key);
    if (!h.name) continue; // expired between the scan and the read
    workers.push({ name: h.name, tags: h.tags ? h.tags.split(',') : [], concurrency: Number(h.concurrency), running: Number(h.running), host: h.host ?? '', pid: Number(h.pid), started_at: h.started_at ?? '' });
  }
  return workers.sort((a, b) => a.name.localeCompare(b.name));
}
