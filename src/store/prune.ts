import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import type { JobManifest } from './manifest.js';
import { listJobIds, readManifest } from './runs.js';

/** One run folder as `prune` reports it. */
export interface PruneEntry {
  job_id: string;
  name: string;
  status: string;
  started_at: string;
  size_bytes: number;
}

/** What `prune` removes, and what it leaves although the rules would have removed it. */
export interface PrunePlan {
  remove: PruneEntry[];
  /** Jobs whose process is still alive: never removed. */
  running: (PruneEntry & { pid: number })[];
  /** Folders whose records cannot be read: left for a person to look at. */
  unreadable: { job_id: string; problem: string }[];
  /** Folders kept by the rules (the N newest, or not old enough). */
  kept: number;
}

/**
 * Which run folders go: all but the `keep` newest, and of those only the ones started more than `olderThanMs`
 * ago (either rule alone, or both). A job whose process is alive (as `show` tells running from interrupted) stays.
 */
export function planPrune(o: { runsDir: string; olderThanMs?: number; keep?: number; now?: number }): PrunePlan {
  const now = o.now ?? Date.now();
  const plan: PrunePlan = { remove: [], running: [], unreadable: [], kept: 0 };
  listJobIds(o.runsDir)
    .reverse()
    .forEach((id, newest) => {
      if (o.keep !== undefined && newest < o.keep) {
        plan.kept++;
        return;
      }
      let m: JobManifest;
      try {
        m = readManifest(o.runsDir, id);
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        plan.unreadable.push({ job_id: id, problem: e.message });
        return;
      }
      if (o.olderThanMs !== undefined && now - Date.parse(m.started_at) <= o.olderThanMs) {
        plan.kept++;
        return;
      }
      const entry = { job_id: id, name: m.name, status: m.status, started_at: m.started_at, size_bytes: sizeOf(path.join(o.runsDir, id)) };
      if (m.status === 'running') plan.running.push({ ...entry, pid: m.pid });
      else plan.remove.push(entry);
    });
  return plan;
}

/** Remove the run folders of a plan. */
export function removeRuns(runsDir: string, entries: PruneEntry[]): void {
  for (const e of entries) {
    const dir = path.join(runsDir, e.job_id);
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      throw new OrchestratorError({ code: 'run-folder', message: `cannot remove ${dir}: ${(err as Error).message}` });
    }
  }
}

/** Bytes of every file below a folder (links counted as themselves, never followed). */
function sizeOf(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    total += e.isDirectory() ? sizeOf(full) : fs.lstatSync(full).size;
  }
  return total;
}
