import { OrchestratorError } from '../errors.js';
import type { JobManifest } from '../store/manifest.js';
import { RunSummaries, type RunSummary } from '../store/run-summaries.js';
import { listJobIds } from '../store/runs.js';

/** One row of the runs page. */
export interface RunRow {
  job_id: string;
  name: string;
  status: string;
  started_at: string | null;
  duration_s: number | null;
  /** Top-level steps (a fanned step counts once) by status. */
  counts: Record<string, number>;
  total: number;
  /** Why the run folder cannot be read, when it cannot. */
  damaged?: string;
}

/** Which rows a runs page shows. */
export interface RunsQuery {
  status?: string;
  /** A part of the job's name, case-insensitive. */
  name?: string;
  /** Start after this many run folders, newest first (the `next` of the page before). */
  offset: number;
  limit: number;
  /** Look at no more than this many run folders (default: all). */
  scan?: number;
}

/** A page of rows, and where the next page starts (undefined: no more). */
export interface RunsPage {
  rows: RunRow[];
  next?: number;
  /** Run folders in the runs folder, filtered or not. */
  total: number;
}

function rowOf(s: RunSummary): RunRow {
  const total = Object.values(s.top).reduce((a, b) => a + b, 0);
  return { job_id: s.job_id, name: s.name, status: s.status, started_at: s.started_at, duration_s: s.duration_s, counts: { ...s.top }, total, ...(s.damaged ? { damaged: s.damaged } : {}) };
}

/**
 * Newest first, reading manifests only until the page is full: a page of 10,000 runs costs one directory listing
 * and about `limit` manifests (more only when a filter skips many). Journals are read only for running jobs.
 */
export function listRunsPage(runsDir: string, q: RunsQuery): RunsPage {
  const ids = listJobIds(runsDir).reverse();
  const summaries = RunSummaries.open(runsDir);
  const rows: RunRow[] = [];
  const name = q.name?.toLowerCase();
  let i = q.offset;
  const end = Math.min(ids.length, q.offset + (q.scan ?? ids.length));
  for (; i < end && rows.length < q.limit; i++) {
    const id = ids[i]!;
    let row: RunRow;
    try {
      row = rowOf(summaries.summary(id));
    } catch (e) {
      if (!(e instanceof OrchestratorError)) throw e;
      if (e.diagnostics[0]?.code === 'unknown-job') continue; // its folder went since the listing (pruned): no run, no page
      row = { job_id: id, name: '?', status: 'damaged', started_at: null, duration_s: null, counts: {}, total: 0, damaged: e.message };
    }
    if (q.status && row.status !== q.status) continue;
    if (name && !row.name.toLowerCase().includes(name)) continue;
    rows.push(row);
  }
  summaries.save(ids);
  return { rows, total: ids.length, ...(i < ids.length ? { next: i } : {}) };
}

/** Up to `max` other jobs named as `m` among the 500 newest, newest first: what a run can be compared with. */
export function sameNameRuns(runsDir: string, m: JobManifest, max: number): RunRow[] {
  return listRunsPage(runsDir, { name: m.name, offset: 0, limit: max + 1, scan: 500 })
    .rows.filter((r) => r.job_id !== m.job_id && r.name === m.name)
    .slice(0, max);
}
