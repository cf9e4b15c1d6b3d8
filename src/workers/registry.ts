// Which workers are connected: each keeps a small hash in Redis (its tags, slots and load) that expires when it
// stops renewing it, so a worker killed with kill -9 drops out on its own, and its name in a set, which is what a
// reader walks: `workers`, `doctor`, the coordinator's start and its "no worker" wait. A scan for the hashes would
// walk the whole keyspace, two keys per attempt of the last day and whatever else shares the Redis.
// A name is one worker's: the hash carries the id of the worker process that wrote it, and a worker writes it only
// when it is absent or its own. A second worker of the same name is refused while the first still beats; one that
// stopped beating (killed, its machine lost) gives its name up when its hash expires, so a worker restarted after a
// crash gets it back within three beats.
import { randomUUID } from 'node:crypto';
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
  /** Called once if this worker's entry lapsed (it was paused, or cut off, past its expiry) and another worker took the name meanwhile: it no longer beats. */
  onTaken?: (holder: WorkerInfo) => void;
}

/** A worker's heartbeat, once its name is its own. */
export interface Heartbeat {
  /** Stop beating and remove the entry (if it is still this worker's). */
  stop(): Promise<void>;
  /** The worker whose entry this one replaced because it had stopped beating (a crashed earlier run), if any. */
  tookOver?: WorkerInfo;
}

/**
 * Writes a worker's entry if it is absent or this worker's own (KEYS: its hash, the set of names; ARGV: this
 * worker's id, the entry's expiry in ms, its name, then the hash's fields and values): 1; else the holder's hash
 * (as field, value, …) and how long it has left, in ms.
 */
const BEAT = `
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HGET', KEYS[1], 'instance') ~= ARGV[1] then
  return {redis.call('HGETALL', KEYS[1]), redis.call('PTTL', KEYS[1])}
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`;

/** Removes a worker's entry if it is still its own (KEYS: its hash, the set of names; ARGV: its id, its name). */
const LEAVE = `
if redis.call('HGET', KEYS[1], 'instance') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 1
`;

/** The name is another live worker's. */
export interface NameHeld {
  heldBy: WorkerInfo;
}

/**
 * Take the worker's name and keep saying that this worker is here, every `everyMs`. When another worker's entry
 * holds the name, this waits (at most until that entry expires) to see whether its holder still beats: if it does,
 * `{ heldBy }` and nothing is written; if its entry expires unrenewed (its worker was killed), the name is taken over.
 */
export async function heartbeatWorker(o: HeartbeatOptions): Promise<Heartbeat | NameHeld> {
  const key = workerKey(o.name);
  const instance = randomUUID();
  const started = new Date().toISOString();
  let beats = 0;
  const beat = async (): Promise<{ holder: Record<string, string>; ttlMs: number } | undefined> => {
    const fields = { name: o.name, tags: o.tags.join(','), concurrency: o.concurrency, running: o.load(), host: hostname(), pid: process.pid, started_at: started, instance, beat: ++beats };
    const r = (await o.redis.eval(BEAT, 2, key, workersSetKey(), instance, o.everyMs * 3, o.name, ...Object.entries(fields).flat())) as 1 | [string[], number];
    if (r === 1) return undefined;
    const holder: Record<string, string> = {};
    for (let i = 0; i + 1 < r[0].length; i += 2) holder[r[0][i]!] = r[0][i + 1]!;
    return { holder, ttlMs: Number(r[1]) };
  };
  const first = await beat();
  if (first) {
    // Its holder beats again (a live worker: refused), or its entry expires and the name is this worker's.
    const deadline = Date.now() + Math.max(0, first.ttlMs) + 250;
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const again = await beat();
      if (!again) break;
      if (again.holder.instance !== first.holder.instance || again.holder.beat !== first.holder.beat || Date.now() > deadline) return { heldBy: infoOf(again.holder) };
    }
  }
  let taken = false;
  const timer = setInterval(() => {
    beat().then(
      (held) => {
        if (!held || taken) return;
        taken = true;
        clearInterval(timer);
        o.onTaken?.(infoOf(held.holder));
      },
      () => undefined, // a lost connection is reported by the connection itself
    );
  }, o.everyMs);
  return {
    ...(first ? { tookOver: infoOf(first.holder) } : {}),
    stop: async () => {
      clearInterval(timer);
      await o.redis.eval(LEAVE, 2, key, workersSetKey(), instance, o.name).catch(() => undefined);
    },
  };
}

/** A worker's entry as a WorkerInfo. */
function infoOf(h: Record<string, string>): WorkerInfo {
  return { name: h.name ?? '', tags: h.tags ? h.tags.split(',') : [], concurrency: Number(h.concurrency), running: Number(h.running), host: h.host ?? '', pid: Number(h.pid), started_at: h.started_at ?? '' };
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
    workers.push(infoOf(h));
  });
  // A name whose hash is gone leaves the set; a worker that beats again (it was only slow) puts it back.
  if (gone.length) await redis.srem(workersSetKey(), ...gone);
  // By code unit, not localeCompare: its first call sets up ICU's collator, ~18 ms of every run's start with workers.
  return workers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
