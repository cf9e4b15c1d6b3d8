import cacache from './cacache-lib.js';
import { OrchestratorError } from '../errors.js';

/** What `orchestrator cache prune` did. */
export interface PruneReport {
  dir: string;
  removed_entries: number;
  removed_step_entries: number;
  removed_blobs: number;
  freed_bytes: number;
  kept_bytes: number;
}

/** A blob no entry refers to is removed only once it is this old: a concurrent run may be storing the entry that will. */
const BLOB_GRACE_MS = 10 * 60_000;

/**
 * Evict entries (prompt answers and step results alike, a single store) least recently used first: every entry
 * last used longer than `olderThanMs` ago, then more until the cache holds at most `maxBytes`. A blob goes when no
 * entry left refers to it. Content shared by another index entry stays. Safe beside running jobs: what a job
 * stores meanwhile is a new index line, and a hit that loses a blob is a miss with a warning, never a wrong result.
 */
export async function pruneCache(o: { dir: string; maxBytes?: number; olderThanMs?: number; now?: number }): Promise<PruneReport> {
  const now = o.now ?? Date.now();
  let listing: Awaited<ReturnType<typeof cacache.ls>>;
  try {
    listing = await cacache.ls(o.dir);
  } catch (e) {
    throw new OrchestratorError({ code: 'cache', message: `cannot read the cache ${o.dir}: ${(e as Error).message}` });
  }
  const all = Object.values(listing);
  const kindOf = (e: (typeof all)[number]) => ((e.metadata as { kind?: string } | undefined)?.kind ?? 'prompt');
  const blobsOf = (e: (typeof all)[number]) => ((e.metadata as { blobs?: unknown } | undefined)?.blobs as string[] | undefined) ?? [];
  const refs = new Map<string, number>();
  for (const e of all) if (kindOf(e) === 'step') for (const b of blobsOf(e)) refs.set(b, (refs.get(b) ?? 0) + 1);
  const blobs = new Map(all.filter((e) => kindOf(e) === 'blob').map((e) => [e.key.slice('blob:'.length), e]));
  let total = all.reduce((n, e) => n + (e.size ?? 0), 0);
  const evict: typeof all = [];
  const evictBlob = (sha: string) => {
    const b = blobs.get(sha);
    if (!b) return;
    evict.push(b);
    total -= b.size ?? 0;
    blobs.delete(sha);
  };
  // Least recently used first: a hit re-inserts its entry, so its time is its last use.
  for (const e of all.filter((x) => kindOf(x) !== 'blob').sort((a, b) => a.time - b.time)) {
    const tooOld = o.olderThanMs !== undefined && now - e.time > o.olderThanMs;
    const tooBig = o.maxBytes !== undefined && total > o.maxBytes;
    if (!tooOld && !tooBig) continue;
    evict.push(e);
    total -= e.size ?? 0;
    for (const b of blobsOf(e)) {
      const left = (refs.get(b) ?? 1) - 1;
      refs.set(b, left);
      if (left === 0) evictBlob(b);
    }
  }
  for (const [sha, b] of [...blobs]) if (!refs.get(sha) && now - b.time > BLOB_GRACE_MS) evictBlob(sha);

  const gone = new Set(evict.map((e) => e.key));
  const stillUsed = new Set(all.filter((e) => !gone.has(e.key)).map((e) => e.integrity));
  const report: PruneReport = { dir: o.dir, removed_entries: 0, removed_step_entries: 0, removed_blobs: 0, freed_bytes: 0, kept_bytes: total };
  try {
    for (const e of evict) {
      await cacache.rm.entry(o.dir, e.key);
      if (!stillUsed.has(e.integrity)) await cacache.rm.content(o.dir, e.integrity);
      report.freed_bytes += e.size ?? 0;
      const kind = kindOf(e);
      if (kind === 'step') report.removed_step_entries++;
      else if (kind === 'blob') report.removed_blobs++;
      else report.removed_entries++;
    }
  } catch (e) {
    throw new OrchestratorError({ code: 'cache', message: `cannot prune the cache ${o.dir}: ${(e as Error).message}` });
  }
  return report;
}
