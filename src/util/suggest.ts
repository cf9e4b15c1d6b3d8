/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidates closest to `word` (distance ≤ max(2, a third of its length)), nearest first. */
export function nearest(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const max = Math.max(2, Math.floor(word.length / 3));
  const scored: [string, number][] = [];
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= max || c.startsWith(word)) scored.push([c, d]);
  }
  return scored.sort((x, y) => x[1] - y[1]).slice(0, limit).map(([c]) => c);
}

/** ` (did you mean "x"?)` or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const [best] = nearest(word, candidates, 1);
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}
