/** Edit distance where swapping two neighbours counts as one edit (`biuld` → `build`), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  // Optimal string alignment: Levenshtein plus adjacent transpositions, three rows.
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidates close to `word`, nearest first: at most a third of its length in edits (at least one), and never
 * as many edits as either word has letters (so `zz` does not suggest `a`); a longer candidate starting with a word
 * of three or more letters counts too.
 */
export function nearest(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const max = Math.max(1, Math.floor(word.length / 3));
  const scored: [string, number][] = [];
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    const isClose = d <= max && d < word.length && d < c.length;
    if (isClose || (word.length >= 3 && c.startsWith(word))) scored.push([c, d]);
  }
  return scored.sort((x, y) => x[1] - y[1]).slice(0, limit).map(([c]) => c);
}

/** ` (did you mean "x"?)` or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const [best] = nearest(word, candidates, 1);
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}
