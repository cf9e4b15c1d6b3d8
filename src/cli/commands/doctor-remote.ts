// `doctor`'s remote-cache line: shown only when a remote cache is configured, and then its bucket is asked.
import { OrchestratorError } from '../../errors.js';
import { REMOTE_CACHE_KEY_ENV, remoteCacheConfig } from '../../remote/config.js';

/** A line of `doctor` (a DoctorCheck; declared here so that doctor.ts and this file do not import each other). */
interface RemoteCacheCheck {
  name: 'remote cache';
  state: 'ok' | 'problem';
  value: string;
  detail: string;
}

/** The remote cache's check (its key, and whether its bucket answers); none when no remote cache is configured. */
export async function remoteCacheChecks(opts: { remoteCache?: string }, env: NodeJS.ProcessEnv = process.env): Promise<RemoteCacheCheck[]> {
  const url = opts.remoteCache ?? (env.ORCH_REMOTE_CACHE || undefined);
  if (url === undefined) return [];
  const name = 'remote cache' as const;
  const value = `${url} (${opts.remoteCache ? '--remote-cache' : '$ORCH_REMOTE_CACHE'})`;
  let secret: string;
  try {
    secret = remoteCacheConfig(opts, env)!.secret; // a URL is set (above): a config or an error
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return [{ name, state: 'problem', value, detail: e.message }];
  }
  // Loaded only here: a doctor without a remote cache never loads the AWS SDK.
  const [{ openBucket }, { checkBucket }, { keyId }] = await Promise.all([import('../../remote/bucket.js'), import('../../remote/remote-cache.js'), import('../../remote/signed-entry.js')]);
  const bucket = await openBucket({ url });
  try {
    const problem = await checkBucket(bucket);
    if (problem !== undefined) return [{ name, state: 'problem', value, detail: problem }];
  } finally {
    bucket.close();
  }
  const endpoint = env.ORCH_S3_ENDPOINT ? `$ORCH_S3_ENDPOINT ${env.ORCH_S3_ENDPOINT}` : 'AWS S3';
  return [{ name, state: 'ok', value, detail: `reachable through ${endpoint}; entries signed and checked with $${REMOTE_CACHE_KEY_ENV} (key id ${keyId(secret)}: the same on every machine that shares the cache)` }];
}
