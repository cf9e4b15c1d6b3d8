// The remote cache under the step cache (SPEC §5, §11): cached run steps' entries and the blobs they name, in the
// same bucket as prompt answers. Entries are signed like prompt answers (signed-entry.ts) and name their blobs by
// SHA-256; a blob is checked against its name when it comes down, so it needs no signature of its own. Reads go
// local first, then remote (what comes down is kept locally); writes go to both unless read-only, blobs before the
// entry that names them, and an entry whose blobs did not all go up is not written remotely.
import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { BlobError, type EntryLookup, type EntryStore } from '../store/entry-store.js';
import { hashFile } from '../store/hash.js';
import type { Bucket } from './bucket.js';
import type { RemoteCacheConfig } from './config.js';
import { notOverwritten, openEntry, sealEntry } from './signed-entry.js';

/** Signed under this prefix: a step entry can never pass for a prompt answer's, nor the reverse. */
const SIGNED_PREFIX = 'step:';

const entryObject = (key: string) => `v1/steps/${encodeURIComponent(key)}`;
const blobObject = (sha256: string) => `v1/blobs/${sha256}`;

/** What a remote step entry holds: what the local store keeps for it. */
interface StoredStep {
  entry: unknown;
  blobs: string[];
  metadata: Record<string, unknown>;
}

/** The step cache's store with the bucket under it; `warn` says what went wrong remotely (never a step failure), with the entry's key when there is one. */
export function layerStepStore(o: { local: EntryStore; bucket: Bucket; config: RemoteCacheConfig; warn: (message: string, key?: string) => void }): EntryStore {
  const { local, bucket, config, warn } = o;
  const about = (key: string) => `remote cache entry ${key.slice(0, 12)}… in ${config.url}`;
  const notUploaded = new Set<string>();
  const othersKeys = new Map<string, string>();
  return {
    async getEntry(key): Promise<EntryLookup> {
      const here = await local.getEntry(key);
      if (here.kind === 'hit') return here;
      let bytes: Buffer | undefined;
      try {
        bytes = await bucket.read(entryObject(key));
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        warn(`remote cache: ${e.message}; treated as a miss`, key);
        return here;
      }
      if (bytes === undefined) return here;
      const opened = openEntry(SIGNED_PREFIX + key, bytes, config.secret);
      if ('problem' in opened) {
        if (opened.otherKey !== undefined) othersKeys.set(key, opened.otherKey);
        return { kind: 'corrupt', problem: `${about(key)} ${opened.problem}: ignored` };
      }
      const stored = JSON.parse(opened.data.toString('utf8')) as StoredStep;
      try {
        await local.putEntry(key, stored);
      } catch (e) {
        warn(`could not keep ${about(key)} in the local cache: ${(e as Error).message}`, key);
      }
      return { kind: 'hit', entry: stored.entry, source: 'remote' };
    },

    async putEntry(key, stored) {
      await local.putEntry(key, stored);
      if (config.readOnly) return;
      const other = othersKeys.get(key);
      if (other !== undefined) {
        warn(notOverwritten(about(key), other, config.url), key);
        return;
      }
      const missing = stored.blobs.filter((b) => notUploaded.has(b));
      if (missing.length > 0) {
        warn(`${about(key)} not written: ${missing.length} of its files did not reach the bucket; the result is stored locally only`, key);
        return;
      }
      try {
        await bucket.write(entryObject(key), sealEntry({ key: SIGNED_PREFIX + key, data: Buffer.from(JSON.stringify(stored)), metadata: { kind: 'step' } }, config.secret));
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        warn(`remote cache: ${e.message}; the result is stored locally only`, key);
      }
    },

    touchEntry: (key) => local.touchEntry(key),

    async readBlob(sha256, dest) {
      try {
        await local.readBlob(sha256, dest);
        return;
      } catch (e) {
        if (!(e instanceof BlobError)) throw e;
      }
      const temp = `${dest}.remote-${process.pid}`;
      let found: boolean;
      try {
        found = await bucket.download(blobObject(sha256), temp);
      } catch (e) {
        throw new BlobError(`the blob ${sha256.slice(0, 12)}… is not in the local cache and cannot be read from ${config.url}: ${(e as Error).message}`);
      }
      if (!found) throw new BlobError(`the blob ${sha256.slice(0, 12)}… is in neither the local cache nor ${config.url}`);
      if (hashFile(path.dirname(temp), path.basename(temp)).sha256 !== sha256) {
        await fs.promises.rm(temp, { force: true });
        throw new BlobError(`the blob ${sha256.slice(0, 12)}… in ${config.url} does not hash to its name`);
      }
      try {
        await local.writeBlob(sha256, temp);
      } catch (e) {
        warn(`could not keep the blob ${sha256.slice(0, 12)}… in the local cache: ${(e as Error).message}`);
      }
      await fs.promises.rename(temp, dest);
    },

    async blobProblem(sha256, size) {
      const here = await local.blobProblem(sha256, size);
      if (here === undefined) return undefined;
      try {
        return (await bucket.has(blobObject(sha256))) ? undefined : `the blob ${sha256.slice(0, 12)}… is in neither the local cache nor ${config.url}`;
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        return `${here}, and ${config.url} cannot be asked: ${e.message}`;
      }
    },

    async writeBlob(sha256, file) {
      await local.writeBlob(sha256, file);
      if (config.readOnly) return;
      try {
        if (!(await bucket.has(blobObject(sha256)))) await bucket.upload(blobObject(sha256), file);
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        notUploaded.add(sha256);
        warn(`remote cache: ${e.message}`);
      }
    },
  };
}

