// What the coordinator accepts back from a worker into its own checkout (SPEC §10–§11): only files a cached
// step's `cache.outputs` globs declare, the way `matchFiles` reads them (dot files too, `!` excludes), and never
// under the runs or cache folder.
import { describe, expect, it } from 'vitest';
import { declaredOutput } from '../../../src/workers/checkout-files.js';

describe('declaredOutput', () => {
  it('accepts what an outputs glob matches, dot files included', () => {
    const ok = declaredOutput(['out/**', 'dist/app.js'], []);
    expect(['out/a.txt', 'out/deep/b.txt', 'out/.hidden', 'dist/app.js'].map(ok)).toEqual([true, true, true, true]);
  });

  it('refuses what no glob declares: a sibling, a file up the tree, the spec itself', () => {
    const ok = declaredOutput(['out/*.txt'], []);
    expect(['out/a.json', 'out/deep/a.txt', 'spec.yaml', '.git/hooks/pre-commit', '../elsewhere.txt'].map(ok)).toEqual([false, false, false, false, false]);
  });

  it('a `!` glob excludes, and so does an excluded folder (the runs and cache folders)', () => {
    const ok = declaredOutput(['**/*.txt', '!secret/**'], ['runs', 'cache']);
    expect(['a.txt', 'secret/key.txt', 'runs/x/log.txt', 'cache/y.txt', 'runs.txt'].map(ok)).toEqual([true, false, false, false, true]);
  });

  it('reads a leading ./ as the spec folder, as the crawl does', () => {
    expect(declaredOutput(['./out/a.txt'], [])('out/a.txt')).toBe(true);
  });

  it('declares nothing without a positive glob', () => {
    expect(declaredOutput(['!out/**'], [])('a.txt')).toBe(false);
    expect(declaredOutput([], [])('a.txt')).toBe(false);
  });
});
