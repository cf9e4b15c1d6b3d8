import { OrchestratorError } from '../../errors.js';
import { cacheDirOf, cacheStats, clearCache, oldCacheNotice, type CacheStats } from '../../store/cache.js';
import { runsDirOf } from '../options.js';
import { table } from '../render/table.js';
import { formatBytes, plural } from '../render/units.js';

/** The actions of `orchestrator cache`. */
export const CACHE_ACTIONS = ['stats', 'prune', 'clear'] as const;

/** `orchestrator cache stats|prune|clear`: the cache of prompt answers (SPEC §5) and step results (SPEC §11). */
export async function cacheCommand(action: string, opts: { cacheDir?: string; runsDir?: string; json?: boolean; maxSize?: number; olderThan?: number }): Promise<number> {
  const dir = cacheDirOf({ cacheDir: opts.cacheDir });
  switch (action) {
    case 'stats': {
      const stats = await cacheStats(dir);
      const old = oldCacheNotice(runsDirOf(opts), dir);
      if (opts.json) process.stdout.write(`${JSON.stringify(old ? { ...stats, notices: [{ code: 'old-cache', message: old }] } : stats, null, 2)}\n`);
      else process.stdout.write(describe(stats) + (old ? `note: ${old}\n` : ''));
      return 0;
    }
    case 'prune': {
      if (opts.maxSize === undefined && opts.olderThan === undefined) throw new OrchestratorError({ code: 'usage', message: 'cache prune: give --max-size, --older-than, or both' });
      const { pruneCache } = await import('../../store/cache-prune.js');
      const r = await pruneCache({ dir, maxBytes: opts.maxSize, olderThanMs: opts.olderThan });
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else process.stdout.write(`${describeRemoved(r.removed_entries, r.removed_step_entries, r.removed_blobs, r.freed_bytes)} from ${dir}; ${formatBytes(r.kept_bytes)} left\n`);
      return 0;
    }
    case 'clear': {
      // Every kind it removes, named as stats and prune name them (removed_entries: prompt answers).
      const before = await clearCache(dir);
      if (opts.json) process.stdout.write(`${JSON.stringify({ dir, removed_entries: before.entries, removed_step_entries: before.step_entries, removed_blobs: before.blobs, removed_bytes: before.size_bytes }, null, 2)}\n`);
      else process.stdout.write(`${describeRemoved(before.entries, before.step_entries, before.blobs, before.size_bytes)} from ${dir}\n`);
      return 0;
    }
    default:
      throw new OrchestratorError({ code: 'usage', message: `cache: unknown action "${action}" (use ${CACHE_ACTIONS.join(' or ')})` });
  }
}

/** `removed 0 prompt answers, 2 step entries and 1 blob (197.4 KiB)`: what prune or clear took away. */
function describeRemoved(promptAnswers: number, stepEntries: number, blobs: number, bytes: number): string {
  return `removed ${plural(promptAnswers, 'prompt answer', 'prompt answers')}, ${plural(stepEntries, 'step entry', 'step entries')} and ${plural(blobs, 'blob', 'blobs')} (${formatBytes(bytes)})`;
}

function describe(s: CacheStats): string {
  if (s.entries + s.step_entries + s.blobs === 0) return `cache ${s.dir}: empty\n`;
  const lines = [
    `cache ${s.dir}`,
    `  ${plural(s.entries, 'prompt answer', 'prompt answers')}, ${plural(s.step_entries, 'step entry', 'step entries')} (${plural(s.blobs, 'blob', 'blobs')}), ${formatBytes(s.size_bytes)}`,
    `  oldest ${s.oldest}, newest ${s.newest}`,
  ];
  if (s.entries > 0) lines.push('', table(['PROVIDER/MODEL', 'ENTRIES'], Object.entries(s.by_model).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => [k, String(n)])));
  return `${lines.join('\n')}\n`;
}
