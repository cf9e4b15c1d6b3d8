// The workers' registry against a real redis-server: a worker is listed while its heartbeat hash lives, found
// through the set of names (never by a scan of the keyspace, which holds two keys per attempt of the last day).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerKey, workersSetKey } from '../../../src/workers/protocol.js';
import { heartbeatWorker, listWorkers, type Heartbeat, type NameHeld } from '../../../src/workers/registry.js';
import { redisSkipReason, startRedisTestServer, type RedisTestServer } from '../../helpers/redis-test-server.js';

const skip = redisSkipReason();
let server: RedisTestServer;
let redis: Redis;

beforeAll(async () => {
  if (skip) return;
  server = await startRedisTestServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

describe.skipIf(skip)(`the workers' registry${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('lists the workers that beat, by name, and forgets one whose heartbeat expired or that stopped', async () => {
    const beats = [
      mine(await heartbeatWorker({ redis, name: 'w-b', tags: ['gpu', 'linux'], concurrency: 2, load: () => 1, everyMs: 60_000 })),
      mine(await heartbeatWorker({ redis, name: 'w-a', tags: [], concurrency: 4, load: () => 0, everyMs: 60_000 })),
    ];
    // Keys of another application in the same Redis, named like a worker's: never read.
    await redis.set(workerKey('not-a-worker'), 'x');
    expect(await listWorkers(redis)).toEqual([
      expect.objectContaining({ name: 'w-a', tags: [], concurrency: 4, running: 0, pid: process.pid }),
      expect.objectContaining({ name: 'w-b', tags: ['gpu', 'linux'], concurrency: 2, running: 1 }),
    ]);
    await redis.del(workerKey('w-b')); // what its expiry does when it is killed with kill -9
    expect((await listWorkers(redis)).map((w) => w.name)).toEqual(['w-a']);
    expect(await redis.smembers(workersSetKey())).toEqual(['w-a']);
    await beats[1]!.stop(); // stopped: its hash and its name go
    await beats[0]!.stop();
    expect(await listWorkers(redis)).toEqual([]);
    expect(await redis.exists(workersSetKey(), workerKey('w-a'))).toBe(0);
  });

  it('a name is one worker\'s: a second worker of that name is refused while the first beats; the first keeps its entry', async () => {
    // Beats 400 ms apart: its entry lives 1.2 s past each, more than a loaded machine's pauses.
    const first = mine(await heartbeatWorker({ redis, name: 'w-dup', tags: ['a'], concurrency: 1, load: () => 0, everyMs: 400 }));
    const started = Date.now();
    const second = await heartbeatWorker({ redis, name: 'w-dup', tags: ['b'], concurrency: 9, load: () => 0, everyMs: 400 });
    expect(second).toEqual({ heldBy: expect.objectContaining({ name: 'w-dup', tags: ['a'], concurrency: 1, pid: process.pid }) });
    expect(Date.now() - started).toBeLessThan(2_000); // as soon as the first has beaten again, not after its expiry
    expect((await listWorkers(redis)).map((w) => [w.name, w.tags])).toEqual([['w-dup', ['a']]]);
    await first.stop();
    expect(await listWorkers(redis)).toEqual([]);
  });

  it('an entry left by a worker that stopped beating (kill -9) is taken over once it expires: a restarted worker is not locked out', async () => {
    // What a killed worker leaves: its hash, unrenewed, with its expiry running.
    await redis.hset(workerKey('w-dead'), { name: 'w-dead', tags: '', concurrency: 2, running: 1, host: 'gone-host', pid: 4242, started_at: '2026-01-01T00:00:00.000Z', instance: 'killed', beat: 7 });
    await redis.pexpire(workerKey('w-dead'), 30_000);
    await redis.sadd(workersSetKey(), 'w-dead');
    // Its first beat is sent at once, on this connection: it finds the entry; the expiry, sent after it, ends the
    // entry then (a short expiry set ahead raced the beat on a loaded machine).
    const starting = heartbeatWorker({ redis, name: 'w-dead', tags: [], concurrency: 3, load: () => 0, everyMs: 100 });
    await redis.pexpire(workerKey('w-dead'), 1);
    const restarted = mine(await starting);
    expect(restarted.tookOver).toEqual(expect.objectContaining({ host: 'gone-host', pid: 4242 }));
    expect((await listWorkers(redis)).map((w) => [w.name, w.pid, w.concurrency])).toEqual([['w-dead', process.pid, 3]]);
    // Its stop removes its own entry only: one that another worker holds now stays.
    await redis.hset(workerKey('w-dead'), { instance: 'someone-else' });
    await restarted.stop();
    expect(await redis.exists(workerKey('w-dead'))).toBe(1);
    await redis.del(workerKey('w-dead'));
  });

  it('a worker whose entry lapsed and whose name another took meanwhile is told so once, and writes no more', async () => {
    let told: unknown;
    const lapsed = mine(await heartbeatWorker({ redis, name: 'w-late', tags: [], concurrency: 1, load: () => 0, everyMs: 50, onTaken: (h) => (told = h) }));
    // What a pause past its expiry, and another worker started under its name, leave.
    // Written whole, with an expiry of its own: a lapse of the old entry meanwhile changes nothing.
    await redis.multi().hset(workerKey('w-late'), { name: 'w-late', instance: 'the-other', host: 'other-host', pid: 7 }).pexpire(workerKey('w-late'), 30_000).exec();
    const deadline = Date.now() + 5_000;
    while (told === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(told).toEqual(expect.objectContaining({ name: 'w-late', host: 'other-host', pid: 7 }));
    expect(await redis.hget(workerKey('w-late'), 'instance')).toBe('the-other');
    await lapsed.stop();
    expect(await redis.hget(workerKey('w-late'), 'instance')).toBe('the-other'); // not removed: it is not this one's
    await redis.del(workerKey('w-late'));
  });
});

/** A heartbeat that got its name. */
function mine(beat: Heartbeat | NameHeld): Heartbeat {
  if ('heldBy' in beat) throw new Error(`the name is held by ${JSON.stringify(beat.heldBy)}`);
  return beat;
}
