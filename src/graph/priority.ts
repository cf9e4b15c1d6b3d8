import { topologicalOrder, type Graph } from './build.js';

/**
 * Longest remaining path from each step to the end of the DAG, counting the step itself:
 * rank[i] = weight(i) + max(rank[child]). Among ready steps the highest rank goes first.
 */
export function longestRemainingPath(g: Graph, weight: (i: number) => number): Float64Array {
  const rank = new Float64Array(g.ids.length);
  const order = topologicalOrder(g);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]!;
    let best = 0;
    for (const c of g.children[i]!) if (rank[c]! > best) best = rank[c]!;
    rank[i] = weight(i) + best;
  }
  return rank;
}
