// The workers' registry against a real redis-server: a worker is listed while its heartbeat hash lives, found
// through the set of names (never by a scan of the keyspace, which holds two keys per attempt of the last day).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerKey, workersSetKey } from '../../../src/workers/protocol.js';
import { heartbeatWorker, listWorkers } from '../../../src/workers/registry.js';
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
      heartbeatWorker({ redis, name: 'w-b', tags: ['gpu', 'linux'], concurrency: 2, load: () => 1, everyMs: 60_000 }),
      heartbeatWorker({ redis, name: 'w-a', tags: [], concurrency: 4, load: () => 0, everyMs: 60_000 }),
    ];
    // Keys of another application in the same Redis, named like a worker's: never read.
    await redis.set(workerKey('not-a-worker'), 'x');
    await redis.ping(); // the beats' MULTIs went first on this connection
    expect(await listWorkers(redis)).toEqual([
      expect.objectContaining({ name: 'w-a', tags: [], concurrency: 4, running: 0, pid: process.pid }),
      expect.objectContaining({ name: 'w-b', tags: ['gpu', 'linux'], concurrency: 2, running: 1 }),
    ]);
    await redis.del(workerKey('w-b')); // what its expiry does when it is killed with kill -9
    expect((await listWorkers(redis)).map((w) => w.name)).toEqual(['w-a']);
    expect(await redis.smembers(workersSetKey())).toEqual(['w-a']);
    await beats[1]!(); // stopped: its hash and its name go
    await beats[0]!();
    expect(await listWorkers(redis)).toEqual([]);
    expect(await redis.exists(workersSetKey(), workerKey('w-a'))).toBe(0);
  });
});
