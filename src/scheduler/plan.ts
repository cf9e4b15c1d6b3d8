import type { Graph } from '../graph/build.js';
import { longestRemainingPath } from '../graph/priority.js';
import { ReadyQueue } from './heap.js';

/**
 * Ranking ready steps by longest remaining path (LRP) is a good list schedule, not always the best: on
 * DAGs where long chains hang off short steps it can leave slots idle near the end (the `skewed` bench
 * DAG at concurrency 4: 4 % over the lower bound). With every step's duration recorded, a few hundred
 * simulated schedules find a ranking within a fraction of a percent of it. The search runs when a job
 * has finished (its durations are then known), and only when LRP leaves more to gain than the search
 * costs; the ranking it finds is kept with the durations and used by the next run at the same concurrency.
 */

/** Larger jobs keep LRP: each simulation costs O((steps + edges) log steps). */
export const PLAN_MAX_STEPS = 400;
const SEARCH_ITERATIONS = 600;
/** At most this many simulated step starts per search. */
const SEARCH_STEP_STARTS = 80_000;
/** What one simulated step start costs, in seconds, on a slow machine (0.3 to 1.5 µs on the bench's 2-core VM). */
const SECONDS_PER_STEP_START = 1e-6;
/** A ranking this close to the lower bound is kept as it is. */
const GOOD_ENOUGH = 1.002;

/** A DAG with a duration for each step, to be run at most `concurrency` steps at once. */
export interface ScheduleProblem {
  graph: Graph;
  /** Seconds per step, by index. */
  weight: Float64Array;
  concurrency: number;
}

/** Makespan of the list schedule that starts ready steps in `rank` order (highest first), at most `concurrency` at once. */
export function simulate({ graph: g, weight, concurrency }: ScheduleProblem, rank: ArrayLike<number>): number {
  const n = g.ids.length;
  const waiting = new Int32Array(n);
  const ready = new ReadyQueue(rank);
  for (let i = 0; i < n; i++) {
    waiting[i] = g.needs[i]!.length;
    if (waiting[i] === 0) ready.push(i);
  }
  // Running steps as (end time, step) in a small array: concurrency is small.
  const ends: number[] = [];
  const steps: number[] = [];
  let now = 0;
  let done = 0;
  while (done < n) {
    while (ends.length < concurrency && ready.size > 0) {
      const i = ready.pop()!;
      ends.push(now + weight[i]!);
      steps.push(i);
    }
    if (ends.length === 0) return Infinity; // a cycle: cannot happen for a validated graph
    now = Math.min(...ends);
    // Every step that ends now frees its slot before the next ones are chosen.
    for (let k = ends.length - 1; k >= 0; k--) {
      if (ends[k]! > now) continue;
      const finished = steps[k]!;
      ends[k] = ends[ends.length - 1]!;
      steps[k] = steps[steps.length - 1]!;
      ends.pop();
      steps.pop();
      done++;
      for (const c of g.children[finished]!) if (--waiting[c]! === 0) ready.push(c);
    }
  }
  return now;
}

/** max(critical path, total work / concurrency): no schedule is shorter. */
export function lowerBound({ graph: g, weight, concurrency }: ScheduleProblem): number {
  const lrp = longestRemainingPath(g, (i) => weight[i]!);
  let critical = 0;
  let work = 0;
  for (let i = 0; i < weight.length; i++) {
    critical = Math.max(critical, lrp[i]!);
    work += weight[i]!;
  }
  return Math.max(critical, work / concurrency);
}

/** A ranking of the steps, and how far over the lower bound it simulated when it was made. */
export interface Plan {
  rank: Float64Array;
  ratio: number;
}

/**
 * The ranking to keep for the next run, or undefined when LRP is as good: the best of LRP and the plan
 * kept before, improved by a seeded random search (nudge one to three steps' ranks, or swap two; keep
 * the change when the makespan it is scored by is no longer) unless it is within 0.2 % of the lower bound,
 * still as good as when it was made, or all it could win back is less than the search costs (at most
 * ~80,000 simulated step starts: ~80 ms on a slow machine).
 *
 * A ranking is scored by its mean makespan over the recorded durations and JITTER_SETS copies of them each
 * a little off (seeded): the next run's durations are never exactly these. A ranking tuned to the exact
 * durations alone can hinge on which of two steps ends first: on the skewed bench DAG at C=4 it simulated
 * 1.002x the bound, and with every duration up to 3 ms off, 1.08x on average, worse than LRP's 1.04x; scored
 * this way it comes out ~1.004x under the same jitter.
 */
export function planRanking(problem: ScheduleProblem, previous?: Plan): Plan | undefined {
  const { graph: g, weight, concurrency } = problem;
  const n = g.ids.length;
  if (n === 0 || n > PLAN_MAX_STEPS) return undefined;
  const bound = lowerBound(problem);
  const sets = [weight, ...jitteredCopies(weight)];
  const score = (rank: ArrayLike<number>) => {
    let sum = 0;
    for (const w of sets) sum += simulate({ graph: g, weight: w, concurrency }, rank);
    return sum / sets.length;
  };
  const lrp = longestRemainingPath(g, (i) => weight[i]!);
  const lrpScore = score(lrp);
  let best = lrp;
  let bestScore = lrpScore;
  let settled = bestScore <= bound * GOOD_ENOUGH;
  if (previous) {
    const s = score(previous.rank);
    if (s < bestScore) {
      [best, bestScore] = [previous.rank, s];
      settled = s <= bound * Math.max(GOOD_ENOUGH, previous.ratio + 0.002);
    }
  }
  const iterations = Math.min(SEARCH_ITERATIONS, Math.floor(SEARCH_STEP_STARTS / (n * sets.length)));
  // The search runs as the job ends, while its user waits: it must be able to win back more than it costs. A
  // short job a few milliseconds over its bound (the same DAG again, its durations a little different) keeps
  // its ranking; the search there cost ~60 ms of every run's end to win back less.
  if (bestScore - bound < iterations * n * sets.length * SECONDS_PER_STEP_START) settled = true;
  if (!settled) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += weight[i]! / n;
    const random = seededRandom(0x9e3779b9);
    for (let it = 0; it < iterations && bestScore > bound * (1 + 1e-9); it++) {
      const trial = Float64Array.from(best);
      if (random() < 0.5) {
        const nudges = 1 + Math.floor(random() * 3);
        for (let k = 0; k < nudges; k++) trial[Math.floor(random() * n)]! += (random() - 0.5) * 2 * mean;
      } else {
        const a = Math.floor(random() * n);
        const b = Math.floor(random() * n);
        [trial[a], trial[b]] = [trial[b]!, trial[a]!];
      }
      const s = score(trial);
      if (s <= bestScore) [best, bestScore] = [trial, s];
    }
  }
  return bestScore < lrpScore ? { rank: best, ratio: bestScore / bound } : undefined;
}

/** Copies of the durations a ranking is also scored on. */
const JITTER_SETS = 6;

/** JITTER_SETS copies of `weight`, each duration off by up to 2 % and 3 ms either way (seeded: the same durations give the same copies). */
function jitteredCopies(weight: Float64Array): Float64Array[] {
  const random = seededRandom(0x2545f491);
  return Array.from({ length: JITTER_SETS }, () => weight.map((w) => Math.max(0, w * (1 + 0.02 * (2 * random() - 1)) + 0.003 * (2 * random() - 1))));
}

/** mulberry32: a small, fixed, seeded generator in [0, 1) (the same DAG and durations give the same plan). */
function seededRandom(start: number): () => number {
  let seed = start;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
