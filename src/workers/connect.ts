// Connections to Redis, through ioredis (loaded only here: a local run never pays for it). A Redis that cannot
// be reached at start is an OrchestratorError (exit 2, before any run folder); one lost later is reported to
// `onLost` once it has stayed away for `lostAfterMs`, and every command waiting on it fails.
import type { Redis } from 'ioredis';
import { OrchestratorError } from '../errors.js';
import { msFrom } from '../util/env-ms.js';
import { redisUrlProblem } from '../util/redis-url.js';
import { loadQueueLib } from './load-queue-lib.js';

/** How to reach Redis. */
export interface RedisOptions {
  url: string;
  /** Called once when the connection has been down this long: it will not be tried again. */
  onLost?: (message: string) => void;
  /** Default: ORCH_REDIS_LOST_MS, else 10 s. */
  lostAfterMs?: number;
  /** Called once when a connection that was up goes down (it is tried again until `onLost`), and when it is back. */
  onDown?: (message: string) => void;
  onBack?: () => void;
}

/** `redis://user:***@host:port/db`: a URL as messages show it, without its password. */
export function displayRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

/** How long a connection may stay down before the run gives it up (ORCH_REDIS_LOST_MS, default 10 s). */
export function redisLostAfterMs(env: NodeJS.ProcessEnv = process.env): number {
  return msFrom(env, 'ORCH_REDIS_LOST_MS', 10_000);
}

/** Connect (BullMQ needs `maxRetriesPerRequest: null`); rejects with an OrchestratorError (code `remote`) when Redis cannot be reached now. */
export async function connectRedis(o: RedisOptions): Promise<Redis> {
  if (!/^rediss?:\/\//.test(o.url)) throw new OrchestratorError({ code: 'usage', message: `"${o.url}" is not a Redis URL (redis://host:port)` });
  const problem = redisUrlProblem(o.url);
  if (problem) throw new OrchestratorError({ code: 'usage', message: `"${displayRedisUrl(o.url)}" is not a valid Redis URL: ${problem}` });
  const { Redis } = await loadQueueLib();
  const lostAfter = o.lostAfterMs ?? redisLostAfterMs();
  let ready = false;
  let downSince: number | undefined;
  let lastError = '';
  const redis = new Redis(o.url, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    connectTimeout: 3_000,
    // Before the first connection: no retry (the caller says Redis is unreachable). After: retry until it has been down too long.
    retryStrategy: () => {
      if (!ready) return null;
      if (downSince === undefined) {
        downSince = Date.now();
        o.onDown?.(`lost the connection to Redis at ${displayRedisUrl(o.url)}${lastError ? ` (${lastError})` : ''}: trying again for ${Math.round(lostAfter / 1000)} s`);
      }
      if (Date.now() - downSince < lostAfter) return 200;
      o.onLost?.(`lost the connection to Redis at ${displayRedisUrl(o.url)} (${lastError || 'closed'}) and could not reconnect for ${Math.round(lostAfter / 1000)} s`);
      return null;
    },
  });
  redis.on('error', (e: Error) => (lastError = e.message)); // reported through connect() or onLost, not as an unhandled event
  const onReady = () => {
    if (downSince !== undefined) o.onBack?.();
    downSince = undefined;
  };
  redis.on('ready', onReady);
  // BullMQ's connections are duplicates of this one (its blocking one, a subscriber): each gets a listener of its
  // own, which BullMQ cannot take off when it closes it, or a later error prints `[ioredis] Unhandled error event`
  // with a stack. What they meet is said through onDown and onLost, which their copy of retryStrategy calls too.
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => {
    const copy = duplicate(override);
    copy.on('error', () => undefined);
    copy.on('ready', onReady);
    return copy;
  };
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    throw new OrchestratorError({ code: 'remote', message: `cannot reach Redis at ${displayRedisUrl(o.url)}: ${lastError || (e as Error).message}` });
  }
  ready = true;
  return redis;
}
