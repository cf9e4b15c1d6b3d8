// The ranking a finished job leaves for the next run (src/scheduler/plan.ts), checked against the
// benchmark's own simulator (bench/gen.mjs), which was written apart from it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript without types, used as an independent reference
import { bounds, buildDag, mulberry32, simulateGreedy } from '../../../bench/gen.mjs';
import { buildGraph, type Graph } from '../../../src/graph/build.js';
import { longestRemainingPath } from '../../../src/graph/priority.js';
import { lowerBound, planRanking, PLAN_MAX_STEPS, simulate } from '../../../src/scheduler/plan.js';
import { planRank, readHistory, writeHistory } from '../../../src/job/history.js';
import type { JobManifest } from '../../../src/store/manifest.js';
import { jobSpecOf } from '../../helpers/fake-executor.js';

interface BenchDag {
  n: number;
  nodes: { id: string; deps: number[]; dur: number }[];
}

function graphOf(dag: BenchDag): { g: Graph; weight: Float64Array } {
  const steps = Object.fromEntries(dag.nodes.map((nd) => [nd.id, { needs: nd.deps.map((d) => dag.nodes[d]!.id) }]));
  return { g: buildGraph(jobSpecOf(steps).steps), weight: Float64Array.from(dag.nodes.map((nd) => nd.dur)) };
}

const dags = ['skewed', 'layered'].map((shape) => ({ shape, dag: buildDag({ shape, n: 60, cmd: 'sleep', seed: 1 }) as BenchDag }));

describe('simulate and lowerBound', () => {
  for (const { shape, dag } of dags) {
    for (const c of [2, 4]) {
      it(`agree with the benchmark's simulator: ${shape} N=60 C=${c}`, () => {
        const { g, weight } = graphOf(dag);
        const lrp = longestRemainingPath(g, (i) => weight[i]!);
        expect(simulate({ graph: g, weight, concurrency: c }, lrp)).toBeCloseTo(simulateGreedy(dag, c, 'lrp') as number, 9);
        expect(lowerBound({ graph: g, weight, concurrency: c })).toBeCloseTo((bounds(dag, c) as { lowerBound: number }).lowerBound, 3);
      });
    }
  }

  it('a chain takes the sum of its steps at any concurrency', () => {
    const { g, weight } = graphOf(buildDag({ shape: 'chain', n: 10, cmd: 'sleep', seed: 3 }) as BenchDag);
    const sum = weight.reduce((a, b) => a + b, 0);
    expect(simulate({ graph: g, weight, concurrency: 4 }, new Float64Array(10))).toBeCloseTo(sum, 9);
    expect(lowerBound({ graph: g, weight, concurrency: 4 })).toBeCloseTo(sum, 9);
  });
});

describe('planRanking', () => {
  it('finds a ranking close to the lower bound where longest remaining path leaves slots idle, and it holds when the durations are a few ms off', () => {
    const { g, weight } = graphOf(dags[0]!.dag); // skewed, C=4: LRP is ~4 % over the bound
    const problem = { graph: g, weight, concurrency: 4 };
    const lrp = longestRemainingPath(g, (i) => weight[i]!);
    const bound = lowerBound(problem);
    expect(simulate(problem, lrp) / bound).toBeGreaterThan(1.03);
    const plan = planRanking(problem)!;
    expect(plan).toBeDefined();
    expect(simulate(problem, plan.rank) / bound).toBeLessThan(1.015);
    expect(plan.ratio).toBeGreaterThan(1);
    expect(plan.ratio).toBeLessThan(1.015);
    expect(planRanking(problem)).toEqual(plan); // seeded: the same durations give the same plan
    // The next run's durations are each a little off: the ranking still beats LRP there, on every one of 50 draws.
    const random = mulberry32(7);
    for (let k = 0; k < 50; k++) {
      const next = { graph: g, weight: weight.map((w) => w + 0.006 * (random() - 0.5)), concurrency: 4 };
      const nextBound = lowerBound(next);
      expect(simulate(next, plan.rank) / nextBound).toBeLessThan(Math.min(1.03, simulate(next, lrp) / nextBound));
    }
  });

  it('keeps a ranking from before that is still good, and gives none when LRP is as good', () => {
    const { g, weight } = graphOf(dags[0]!.dag);
    const plan = planRanking({ graph: g, weight, concurrency: 4 })!;
    expect(planRanking({ graph: g, weight, concurrency: 4 }, plan)!.rank).toBe(plan.rank);
    const chain = graphOf(buildDag({ shape: 'chain', n: 20, cmd: 'sleep' }) as BenchDag);
    expect(planRanking({ graph: chain.g, weight: chain.weight, concurrency: 2 })).toBeUndefined();
    const big = graphOf(buildDag({ shape: 'skewed', n: PLAN_MAX_STEPS + 4, cmd: 'sleep' }) as BenchDag);
    expect(planRanking({ graph: big.g, weight: big.weight, concurrency: 4 })).toBeUndefined(); // larger jobs keep LRP
  });

  it('searches only when it can win back more than the search costs (it runs while the user waits for the job to end)', () => {
    const { g, weight } = graphOf(dags[0]!.dag);
    // The same DAG of 0.5–5 ms steps: LRP is still 4 % over the bound, ~1 ms, and is kept.
    const short = { graph: g, weight: weight.map((w) => w / 100), concurrency: 4 };
    expect(simulate(short, longestRemainingPath(g, (i) => short.weight[i]!)) / lowerBound(short)).toBeGreaterThan(1.03);
    expect(planRanking(short)).toBeUndefined();
    // The same DAG again with its durations a few milliseconds off (as the next run records them): the ranking
    // made before is no longer as good as when it was made, but what a search could win back is less than it costs.
    const plan = planRanking({ graph: g, weight, concurrency: 4 })!;
    const again = { graph: g, weight: weight.map((w, i) => w + 0.003 * [-1, 1, 0, 0.5][i % 4]!), concurrency: 4 };
    const span = simulate(again, plan.rank);
    expect(span / lowerBound(again)).toBeGreaterThan(plan.ratio + 0.002);
    expect(span - lowerBound(again)).toBeLessThan(0.05);
    expect(planRanking(again, plan)!.rank).toBe(plan.rank);
  });
});

describe('the plan in the history', () => {
  it('is written after a job and read back only for the same steps and concurrency', () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-plan-'));
    try {
      const { g, weight } = graphOf(dags[0]!.dag);
      const steps = Object.fromEntries(g.ids.map((id, i) => [id, { status: 'succeeded', reused: false, cached: false, duration_s: weight[i] }]));
      writeHistory({ runsDir, history: readHistory(runsDir, '/spec.yaml'), manifest: { steps } as unknown as JobManifest, graph: g, concurrency: 4 });
      const history = readHistory(runsDir, '/spec.yaml');
      expect(history.plan?.concurrency).toBe(4);
      const rank = planRank(g, history, 4)!;
      expect(rank).toEqual(planRanking({ graph: g, weight, concurrency: 4 })!.rank);
      expect(planRank(g, history, 2)).toBeUndefined();
      const renamed = buildGraph(jobSpecOf(Object.fromEntries(g.ids.map((id, i) => [i === 0 ? 'other' : id, { needs: g.needs[i]!.map((d) => g.ids[d]!) }]))).steps);
      expect(planRank(renamed, history, 4)).toBeUndefined();
    } finally {
      fs.rmSync(runsDir, { recursive: true, force: true });
    }
  });

  it('is left as it is by a job that ran nothing (every step cached or reused)', () => {
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-plan-'));
    try {
      const { g, weight } = graphOf(dags[0]!.dag);
      const ran = Object.fromEntries(g.ids.map((id, i) => [id, { status: 'succeeded', reused: false, cached: false, duration_s: weight[i] }]));
      writeHistory({ runsDir, history: readHistory(runsDir, '/spec.yaml'), manifest: { steps: ran } as unknown as JobManifest, graph: g, concurrency: 4 });
      const [file] = fs.readdirSync(path.join(runsDir, '.history'));
      const written = fs.readFileSync(path.join(runsDir, '.history', file!), 'utf8');
      fs.utimesSync(path.join(runsDir, '.history', file!), 1_800_000_000, 1_800_000_000);
      const nothing = Object.fromEntries(g.ids.map((id, i) => [id, { status: 'succeeded', reused: i % 2 === 0, cached: i % 2 === 1, duration_s: 0.001 }]));
      writeHistory({ runsDir, history: readHistory(runsDir, '/spec.yaml'), manifest: { steps: nothing } as unknown as JobManifest, graph: g, concurrency: 2 });
      expect(fs.readFileSync(path.join(runsDir, '.history', file!), 'utf8')).toBe(written);
      expect(fs.statSync(path.join(runsDir, '.history', file!)).mtimeMs).toBe(1_800_000_000_000);
    } finally {
      fs.rmSync(runsDir, { recursive: true, force: true });
    }
  });
});
