// What `doctor` says of a run's remote parts: whether the Redis workers use answers, keeps what BullMQ needs
// (`maxmemory-policy noeviction`) and has workers; whether the bucket answers. Each ends in a sentence, never
// a throw: doctor lists every check.
import { OrchestratorError } from '../errors.js';
import { bucketProblem, openBucket } from '../remote/bucket.js';
import { connectRedis, displayRedisUrl } from './connect.js';
import { listWorkers } from './registry.js';
import { BUCKET_PROBE_KEY } from './transfer.js';

/** One finding: fine, or a problem, with what was found. */
export interface Probe {
  ok: boolean;
  value: string;
  detail?: string;
}

/** Connect, read the eviction policy and the connected workers. */
export async function probeRedis(url: string): Promise<Probe> {
  let redis;
  try {
    redis = await connectRedis({ url });
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return { ok: false, value: e.message };
  }
  try {
    const info = await redis.info('memory');
    const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
    const workers = await listWorkers(redis);
    const value = `${displayRedisUrl(url)} (Redis ${version}), ${workers.length} worker${workers.length === 1 ? '' : 's'} connected${workers.length ? `: ${workers.map((w) => w.name).join(', ')}` : ''}`;
    if (policy !== 'noeviction') return { ok: false, value, detail: `maxmemory-policy is ${policy}: BullMQ needs noeviction (Redis may otherwise drop queued steps); set it in redis.conf or with CONFIG SET` };
    return { ok: true, value };
  } finally {
    redis.disconnect();
  }
}

/** Ask the bucket for an object that need not exist, as a run does before it starts: an answer either way means it is usable with these credentials. */
export async function probeBucket(url: string): Promise<Probe> {
  let bucket;
  try {
    bucket = await openBucket({ url });
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return { ok: false, value: e.message };
  }
  try {
    const problem = await bucketProblem(bucket, BUCKET_PROBE_KEY);
    return problem === undefined ? { ok: true, value: `${url} answers` } : { ok: false, value: `${url}: ${problem}` };
  } finally {
    bucket.close();
  }
}
