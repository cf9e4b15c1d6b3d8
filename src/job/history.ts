import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../store/atomic.js';
import type { Graph } from '../graph/build.js';
import { planRanking, type Plan } from '../scheduler/plan.js';
import type { JobManifest } from '../store/manifest.js';
import { historyFile } from '../store/run-dir.js';
import { makeFolder } from '../util/make-folder.js';

/** Step durations learnt from earlier runs of one spec file: what ranks ready steps by longest remaining path. */
export interface History {
  spec_path: string;
  /** Seconds per step, a running average over the runs that executed it. */
  steps: Record<string, number>;
  /** A ranking of the steps that simulates shorter than longest-remaining-path at this concurrency (scheduler/plan.ts). */
  plan?: { concurrency: number; ratio: number; rank: Record<string, number> };
}

function historyPath(runsDir: string, specPath: string): string {
  const key = createHash('sha256').update(specPath).digest('hex').slice(0, 24);
  return historyFile(runsDir, `${key}.json`);
}

/** The history of a spec; none yet (or an unreadable one, reported by the caller's choice) is an empty history. */
export function readHistory(runsDir: string, specPath: string): History {
  const file = historyPath(runsDir, specPath);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { spec_path: specPath, steps: {} };
    throw e;
  }
  try {
    const h = JSON.parse(text) as History;
    if (h.spec_path === specPath && h.steps && typeof h.steps === 'object') return h;
  } catch {
    // a torn or foreign file is replaced at the end of this job
  }
  return { spec_path: specPath, steps: {} };
}

/**
 * Fold this job's executed steps into the history, with a ranking for the next run when simulation finds
 * one better than longest-remaining-path (atomic replace; with concurrent jobs the last one wins). A job that
 * executed none leaves it untouched.
 */
export function writeHistory(o: { runsDir: string; history: History; manifest: JobManifest; graph: Graph; concurrency: number }): void {
  const { history, graph: g, concurrency } = o;
  const steps = { ...history.steps };
  let learnt = false;
  for (const [id, s] of Object.entries(o.manifest.steps)) {
    // Instances come and go with their data: their fanned step's duration is what ranks it.
    if (s.status !== 'succeeded' || s.reused || s.cached || s.duration_s === null || s.instance_of !== undefined) continue;
    const old = steps[id];
    steps[id] = old === undefined ? s.duration_s : (old + s.duration_s) / 2;
    learnt = true;
  }
  // A job that ran nothing (every step cached or reused) taught nothing: the history stays as it is, and no ranking
  // is simulated again at its end, where a no-op run's user waits.
  if (!learnt) return;
  const updated: History = { spec_path: history.spec_path, steps };
  const weight = g.ids.map((id) => steps[id]);
  if (weight.every((d) => typeof d === 'number' && Number.isFinite(d))) {
    const plan = planRanking({ graph: g, weight: Float64Array.from(weight as number[]), concurrency }, planOf(g, history, concurrency));
    if (plan) updated.plan = { concurrency, ratio: plan.ratio, rank: Object.fromEntries(g.ids.map((id, i) => [id, plan.rank[i]!])) };
  }
  const file = historyPath(o.runsDir, history.spec_path);
  makeFolder(path.dirname(file));
  writeAtomic(file, JSON.stringify(updated));
}

/** The history's ranking when it was made for these steps at this concurrency, else undefined. */
export function planRank(g: Graph, history: History, concurrency: number): Float64Array | undefined {
  return planOf(g, history, concurrency)?.rank;
}

function planOf(g: Graph, history: History, concurrency: number): Plan | undefined {
  const plan = history.plan;
  if (!plan || plan.concurrency !== concurrency || typeof plan.ratio !== 'number' || typeof plan.rank !== 'object' || plan.rank === null) return undefined;
  if (Object.keys(plan.rank).length !== g.ids.length) return undefined;
  const rank = new Float64Array(g.ids.length);
  for (let i = 0; i < g.ids.length; i++) {
    const r = plan.rank[g.ids[i]!];
    if (typeof r !== 'number' || !Number.isFinite(r)) return undefined;
    rank[i] = r;
  }
  return { rank, ratio: plan.ratio };
}

/** Weight of each step for ranking: its learnt duration; unknown steps weigh the mean of the known ones (1 when none is known). */
export function stepWeights(ids: readonly string[], history: History): (i: number) => number {
  const known = ids.map((id) => history.steps[id]).filter((d): d is number => typeof d === 'number' && Number.isFinite(d));
  const meanKnown = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  return (i) => {
    const d = history.steps[ids[i]!];
    return typeof d === 'number' && Number.isFinite(d) ? d : meanKnown;
  };
}
