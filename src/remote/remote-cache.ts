// The remote cache (SPEC §5): a bucket layered under the local cache folder. Reads go local first, then remote (a
// remote hit is kept locally); writes go to both, unless read-only. Every remote entry is signed and checked
// (signed-entry.ts); one that fails is reported and is a miss. Loaded only by runs that ask for a remote cache.
import { OrchestratorError } from '../errors.js';
import type { AnswerLayer, AnswerStore } from '../store/cache.js';
import type { EntryStore as StepEntryStore } from '../store/entry-store.js';
import { bucketProblem, openBucket, type Bucket } from './bucket.js';
import type { RemoteCacheConfig } from './config.js';
import { notOverwritten, openEntry, sealEntry } from './signed-entry.js';

/** Read by the reachability check: that it is absent is the expected answer. */
const PROBE_KEY = 'v1/reachability-check';

/** A remote cache opened for one command. */
export interface RemoteCache {
  readonly url: string;
  readonly readOnly: boolean;
  /** Wraps the local store of prompt answers: what ResponseCache.open takes. */
  readonly layer: AnswerLayer;
  /** Wraps the step cache's local store (cached run steps: entries and their blobs); `warn` says what failed remotely. */
  stepLayer(local: StepEntryStore, warn: (message: string, key?: string) => void): StepEntryStore;
  close(): void;
}

/**
 * Open the bucket and check that it answers. A bucket that cannot be reached is an error (exit 2, before any run
 * folder): the user asked for the shared cache, so a run never quietly goes without it.
 */
export async function openRemoteCache(config: RemoteCacheConfig): Promise<RemoteCache> {
  const bucket = await openBucket({ url: config.url });
  const problem = await checkBucket(bucket);
  if (problem !== undefined) {
    bucket.close();
    throw new OrchestratorError({ code: 'remote', message: `${problem} (run without --remote-cache and $ORCH_REMOTE_CACHE to use only the local cache)` });
  }
  const { layerStepStore } = await import('./remote-step-store.js');
  return {
    url: config.url,
    readOnly: config.readOnly,
    layer: (local) => layerOver({ local, bucket, config }),
    stepLayer: (local, warn) => layerStepStore({ local, bucket, config, warn }),
    close: () => bucket.close(),
  };
}

/** Why the bucket cannot be used (unreachable, no such bucket, refused credentials), or undefined when it answers. */
export async function checkBucket(bucket: Bucket): Promise<string | undefined> {
  const problem = await bucketProblem(bucket, PROBE_KEY);
  return problem === undefined ? undefined : `the remote cache ${bucket.url} cannot be used: ${problem}`;
}

/** The object of an entry: keys are whatever the local store uses, so they are encoded. */
function objectKey(key: string): string {
  return `v1/entries/${encodeURIComponent(key)}`;
}

function layerOver({ local, bucket, config }: { local: AnswerStore; bucket: Bucket; config: RemoteCacheConfig }): AnswerStore {
  const about = (key: string) => `remote cache entry ${key.slice(0, 12)}… in ${config.url}`;
  const othersKeys = new Map<string, string>();
  return {
    async read(key) {
      const here = await local.read(key);
      if (here.entry !== undefined) return here;
      let bytes: Buffer | undefined;
      try {
        bytes = await bucket.read(objectKey(key));
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        return { problems: [...here.problems, `remote cache: ${e.message}; treated as a miss`] };
      }
      if (bytes === undefined) return here;
      const opened = openEntry(key, bytes, config.secret);
      if ('problem' in opened) {
        if (opened.otherKey !== undefined) othersKeys.set(key, opened.otherKey);
        return { problems: [...here.problems, `${about(key)} ${opened.problem}: ignored, treated as a miss`] };
      }
      const problems = [...here.problems];
      try {
        problems.push(...(await local.write(key, opened.data, opened.metadata)));
      } catch (e) {
        problems.push(`could not keep ${about(key)} in the local cache: ${(e as Error).message}`);
      }
      return { entry: { data: opened.data, metadata: opened.metadata, source: 'remote' }, problems };
    },
    async write(key, data, metadata) {
      const problems = await local.write(key, data, metadata);
      if (config.readOnly) return problems;
      const other = othersKeys.get(key);
      if (other !== undefined) return [...problems, notOverwritten(about(key), other, config.url)];
      try {
        await bucket.write(objectKey(key), sealEntry({ key, data: Buffer.from(data), metadata }, config.secret));
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        problems.push(`remote cache: ${e.message}; the entry is stored locally only`);
      }
      return problems;
    },
  };
}
