import type { StepSpec } from '../specfile/model.js';

/** The DAG as index arrays: O(steps + edges) to build and to walk. */
export interface Graph {
  ids: string[];
  index: Map<string, number>;
  /** needs[i]: indices of the steps step i waits for. */
  needs: number[][];
  /** children[i]: indices of the steps that wait for step i. */
  children: number[][];
}

/** Build the graph of a checked spec (needs are known to exist and to be acyclic). */
export function buildGraph(steps: readonly StepSpec[]): Graph {
  const ids = steps.map((s) => s.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const children: number[][] = ids.map(() => []);
  const needs = steps.map((s, i) =>
    s.needs.map((n) => {
      const j = index.get(n)!;
      children[j]!.push(i);
      return j;
    }),
  );
  return { ids, index, needs, children };
}

/**
 * Append the instances of fanned step `gather` as nodes: each needs what the step needs (the same array, shared)
 * and has the step as its only child, which now gathers them. O(instances). Returns the first new index.
 */
export function appendInstances(g: Graph, gather: number, ids: readonly string[]): number {
  const first = g.ids.length;
  const toGather = [gather];
  const needs = g.needs[gather]!;
  for (const id of ids) {
    g.index.set(id, g.ids.length);
    g.ids.push(id);
    g.needs.push(needs);
    g.children.push(toGather);
  }
  return first;
}

/** Kahn's order: every step after all of its needs. */
export function topologicalOrder(g: Graph): number[] {
  const pending = g.needs.map((n) => n.length);
  const order: number[] = [];
  for (let i = 0; i < pending.length; i++) if (pending[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    for (const c of g.children[order[k]!]!) if (--pending[c]! === 0) order.push(c);
  }
  return order;
}

/** Indices of every step downstream of `roots` (roots included). */
export function downstreamOf(g: Graph, roots: readonly number[]): Set<number> {
  const seen = new Set(roots);
  const queue = [...roots];
  for (let k = 0; k < queue.length; k++) {
    for (const c of g.children[queue[k]!]!) if (!seen.has(c)) (seen.add(c), queue.push(c));
  }
  return seen;
}

/** Indices of every step upstream of `root` (root excluded). */
export function upstreamOf(g: Graph, root: number): Set<number> {
  const seen = new Set<number>();
  const queue = [root];
  for (let k = 0; k < queue.length; k++) {
    for (const n of g.needs[queue[k]!]!) if (!seen.has(n)) (seen.add(n), queue.push(n));
  }
  return seen;
}
