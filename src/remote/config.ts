// What `--remote-cache`, `--remote-cache-read-only`, $ORCH_REMOTE_CACHE and $ORCH_REMOTE_CACHE_KEY ask for, checked
// without loading the AWS SDK: a usage error here stops a command before anything runs.
import { OrchestratorError } from '../errors.js';
import { parseBucketUrl } from './bucket-url.js';

/** The variable that holds the remote cache's signing key (HMAC-SHA256). */
export const REMOTE_CACHE_KEY_ENV = 'ORCH_REMOTE_CACHE_KEY';
/** Shorter keys are refused: 32 characters is what `openssl rand -hex 16` gives. */
const MIN_KEY_LENGTH = 32;

/** A remote cache to layer under the local one (SPEC §5). */
export interface RemoteCacheConfig {
  /** `s3://bucket/prefix`. */
  url: string;
  /** Read entries, never write any (untrusted builds such as pull requests). */
  readOnly: boolean;
  /** Signs entries written and checks entries read. */
  secret: string;
}

/** The remote cache the options and environment ask for; undefined when none. Missing or short keys are usage errors. */
export function remoteCacheConfig(o: { remoteCache?: string; remoteCacheReadOnly?: boolean }, env: NodeJS.ProcessEnv = process.env): RemoteCacheConfig | undefined {
  const url = o.remoteCache ?? (env.ORCH_REMOTE_CACHE || undefined);
  if (url === undefined) {
    if (o.remoteCacheReadOnly) throw new OrchestratorError({ code: 'usage', message: '--remote-cache-read-only needs a remote cache: --remote-cache s3://bucket/prefix or $ORCH_REMOTE_CACHE' });
    return undefined;
  }
  parseBucketUrl(url);
  const secret = env[REMOTE_CACHE_KEY_ENV] ?? '';
  // An unsigned remote cache is what lets one build poison another's results: there is no such mode.
  if (secret.length < MIN_KEY_LENGTH) {
    const why = secret === '' ? 'is not set' : `is shorter than ${MIN_KEY_LENGTH} characters`;
    throw new OrchestratorError({
      code: 'usage',
      message: `the remote cache ${url} signs and checks every entry with the key in $${REMOTE_CACHE_KEY_ENV}, which ${why} (make one with \`openssl rand -hex 32\` and give every machine that shares the cache the same)`,
    });
  }
  return { url, readOnly: o.remoteCacheReadOnly ?? false, secret };
}
