import { OrchestratorError } from '../../errors.js';
import { formatDuration } from '../../specfile/duration.js';
import { planPrune, removeRuns, type PruneEntry } from '../../store/prune.js';
import { runsDirOf } from '../options.js';
import { formatBytes, plural } from '../render/units.js';

/** Options of `orchestrator prune`. */
export interface PruneOptions {
  olderThan?: number;
  keep?: number;
  dryRun?: boolean;
  json?: boolean;
  runsDir?: string;
}

/** `orchestrator prune --older-than D --keep N [--dry-run]`: remove old run folders, never a running job's. */
export async function pruneCommand(opts: PruneOptions): Promise<number> {
  if (opts.olderThan === undefined && opts.keep === undefined) {
    throw new OrchestratorError({ code: 'usage', message: 'prune needs --older-than <age> (e.g. 30d), --keep <n>, or both' });
  }
  const runsDir = runsDirOf(opts);
  const now = Date.now();
  const plan = planPrune({ runsDir, olderThanMs: opts.olderThan, keep: opts.keep, now });
  const dryRun = opts.dryRun ?? false;
  if (!dryRun) removeRuns(runsDir, plan.remove);
  const freed = plan.remove.reduce((sum, e) => sum + e.size_bytes, 0);
  for (const u of plan.unreadable) process.stderr.write(`warning: left ${u.job_id} alone: ${u.problem}\n`);
  if (opts.json) {
    const doc = { dry_run: dryRun, runs_dir: runsDir, removed: plan.remove, freed_bytes: freed, kept: plan.kept, running: plan.running, unreadable: plan.unreadable };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  const verb = dryRun ? 'would remove' : 'removed';
  const line = (e: PruneEntry) => `${e.job_id}  ${e.name}  ${e.status}  ${formatDuration(now - Date.parse(e.started_at))} old  ${formatBytes(e.size_bytes)}`;
  const out = [
    ...plan.remove.map((e) => `${verb} ${line(e)}`),
    ...plan.running.map((e) => `kept ${line(e)}  (still running, pid ${e.pid})`),
    `${verb} ${plural(plan.remove.length, 'run', 'runs')} from ${runsDir}, ${dryRun ? 'would free' : 'freed'} ${formatBytes(freed)}; kept ${plan.kept + plan.running.length + plan.unreadable.length}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
