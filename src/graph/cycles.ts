/** Every distinct cycle reachable in a graph given as adjacency lists, each as a closed path `[a, b, c, a]`. O(nodes + edges). */
export function findCycles(ids: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const WHITE = 0, GRAY = 1, BLACK = 2;
  const color = new Map<string, number>();
  const cycles: string[][] = [];
  for (const root of ids) {
    if ((color.get(root) ?? WHITE) !== WHITE) continue;
    // Iterative DFS: a stack of [node, next edge index].
    const stack: [string, number][] = [[root, 0]];
    const onPath: string[] = [root];
    color.set(root, GRAY);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = edges.get(top[0]) ?? [];
      if (top[1] >= next.length) {
        color.set(top[0], BLACK);
        stack.pop();
        onPath.pop();
        continue;
      }
      const to = next[top[1]++]!;
      const c = color.get(to) ?? WHITE;
      if (c === GRAY) cycles.push([...onPath.slice(onPath.lastIndexOf(to)), to]);
      else if (c === WHITE && edges.has(to)) {
        color.set(to, GRAY);
        stack.push([to, 0]);
        onPath.push(to);
      }
    }
  }
  return cycles;
}
