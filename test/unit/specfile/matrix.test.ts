// The matrix expansion (src/specfile/matrix.ts) against the examples GitHub documents for strategy.matrix
// ("Running variations of jobs in a workflow", docs.github.com), with the results the documentation gives.
import { describe, expect, it } from 'vitest';
import { expandMatrix, FAN_OUT_CAP } from '../../../src/specfile/matrix.js';

describe('expandMatrix, as GitHub Actions documents it', () => {
  it('orders the product with the first key varying slowest ("version: [10, 12, 14], os: [ubuntu-latest, windows-latest]")', () => {
    const { combos, problems } = expandMatrix({ version: [10, 12, 14], os: ['ubuntu-latest', 'windows-latest'] });
    expect(problems).toEqual([]);
    expect(combos).toEqual([
      { version: 10, os: 'ubuntu-latest' },
      { version: 10, os: 'windows-latest' },
      { version: 12, os: 'ubuntu-latest' },
      { version: 12, os: 'windows-latest' },
      { version: 14, os: 'ubuntu-latest' },
      { version: 14, os: 'windows-latest' },
    ]);
  });

  it('excludes on a partial match: 12 combinations less 1 and 2 leave 9', () => {
    const { combos } = expandMatrix({
      os: ['macos-latest', 'windows-latest'],
      version: [12, 14, 16],
      environment: ['staging', 'production'],
      exclude: [
        { os: 'macos-latest', version: 12, environment: 'production' },
        { os: 'windows-latest', version: 16 },
      ],
    });
    expect(combos).toHaveLength(9);
    expect(combos).not.toContainEqual({ os: 'macos-latest', version: 12, environment: 'production' });
    expect(combos.filter((c) => c.os === 'windows-latest' && c.version === 16)).toEqual([]);
    expect(combos).toContainEqual({ os: 'macos-latest', version: 12, environment: 'staging' });
  });

  it('include extends matching combinations, overwrites only added values, and adds the rest (fruit, animal, color, shape)', () => {
    const { combos } = expandMatrix({
      fruit: ['apple', 'pear'],
      animal: ['cat', 'dog'],
      include: [
        { color: 'green' },
        { color: 'pink', animal: 'cat' },
        { fruit: 'apple', shape: 'circle' },
        { fruit: 'banana' },
        { fruit: 'banana', animal: 'cat' },
      ],
    });
    expect(combos).toEqual([
      { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
      { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
      { fruit: 'pear', animal: 'cat', color: 'pink' },
      { fruit: 'pear', animal: 'dog', color: 'green' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ]);
  });

  it('expands one configuration (windows-latest, node 16 gets npm 6) and adds one that matches none (node 17)', () => {
    expect(expandMatrix({ os: ['windows-latest', 'ubuntu-latest'], node: [14, 16], include: [{ os: 'windows-latest', node: 16, npm: 6 }] }).combos).toEqual([
      { os: 'windows-latest', node: 14 },
      { os: 'windows-latest', node: 16, npm: 6 },
      { os: 'ubuntu-latest', node: 14 },
      { os: 'ubuntu-latest', node: 16 },
    ]);
    const added = expandMatrix({ os: ['windows-latest', 'ubuntu-latest'], node: [14, 16], include: [{ os: 'windows-latest', node: 17 }] }).combos;
    expect(added).toHaveLength(5);
    expect(added[4]).toEqual({ os: 'windows-latest', node: 17 });
  });

  it('a matrix of only include entries is those entries', () => {
    expect(expandMatrix({ include: [{ site: 'production', datacenter: 'site-a' }, { site: 'staging', datacenter: 'site-b' }] }).combos).toEqual([
      { site: 'production', datacenter: 'site-a' },
      { site: 'staging', datacenter: 'site-b' },
    ]);
  });

  it('include runs after exclude: an excluded combination can come back through include', () => {
    expect(expandMatrix({ a: [1, 2], exclude: [{ a: 2 }], include: [{ a: 2, b: 'x' }] }).combos).toEqual([{ a: 1 }, { a: 2, b: 'x' }]);
  });

  it("lists every combination's values in the matrix's key order, whatever order an include entry wrote them in", () => {
    const keysOf = (combos: Record<string, unknown>[]) => combos.map((c) => Object.keys(c).join(','));
    expect(keysOf(expandMatrix({ version: [10], os: ['a'], include: [{ os: 'c', version: 14 }] }).combos)).toEqual(['version,os', 'version,os']);
    // Keys only include adds go after the vectors', in the order they first appear.
    expect(keysOf(expandMatrix({ os: ['a', 'b'], include: [{ npm: 6, os: 'a' }, { color: 'x', npm: 7, os: 'b' }, { flag: 1, color: 'y', os: 'z' }] }).combos)).toEqual(['os,npm', 'os,npm,color', 'os,color,flag']);
    expect(keysOf(expandMatrix({ include: [{ site: 'p', dc: 'a' }, { dc: 'b', site: 's' }] }).combos)).toEqual(['site,dc', 'site,dc']);
  });

  it('refuses lists that make more than FAN_OUT_CAP combinations, or more than max_instances, before it makes them', () => {
    const ten = Array.from({ length: 10 }, (_, i) => i);
    const huge = Object.fromEntries('abcdefghijklmnopqrst'.split('').map((k) => [k, ten])); // 10^20 combinations
    const started = performance.now();
    expect(expandMatrix(huge)).toEqual({
      combos: [],
      problems: [{ message: `matrix: its lists make 100000000000000000000 combinations (${Array(20).fill(10).join(' × ')}), more than the ${FAN_OUT_CAP} a matrix may have before exclude`, path: [] }],
    });
    // 10^6 combinations is the cap itself: without exclude they are counted, not made.
    const million = { a: ten, b: ten, c: ten, d: ten, e: ten, f: ten };
    expect(expandMatrix(million, { maxInstances: 10_000 }).problems.map((p) => p.message)).toEqual(['matrix: 1000000 combinations, more than max_instances (10000)']);
    expect(expandMatrix({ ...million, include: [{ a: 99 }] }, { maxInstances: 10_000 }).problems.map((p) => p.message)).toEqual(['matrix: at least 1000000 combinations, more than max_instances (10000)']);
    // With exclude, those it keeps are made only until they are too many.
    expect(expandMatrix({ ...million, exclude: [{ a: 0 }] }, { maxInstances: 5 }).problems.map((p) => p.message)).toEqual(['matrix: 1000000 combinations before exclude, and more than max_instances (5) after it']);
    expect(performance.now() - started).toBeLessThan(2000);
    // What exclude and include leave is what is measured.
    expect(expandMatrix({ a: [1, 2, 3], exclude: [{ a: 1 }, { a: 2 }] }, { maxInstances: 1 })).toEqual({ combos: [{ a: 3 }], problems: [] });
    expect(expandMatrix({ a: [1, 2], include: [{ a: 3 }] }, { maxInstances: 2 }).problems.map((p) => p.message)).toEqual(['matrix: 3 combinations, more than max_instances (2)']);
  });

  it('compares object values by their content', () => {
    const { combos } = expandMatrix({ cfg: [{ n: 1 }, { n: 2 }], exclude: [{ cfg: { n: 2 } }] });
    expect(combos).toEqual([{ cfg: { n: 1 } }]);
  });

  it('reports an empty vector, an exclude key that is no vector and an entry that is no mapping', () => {
    const { problems } = expandMatrix({ a: [], exclude: [{ b: 1 }], include: ['x' as unknown as Record<string, unknown>] });
    expect(problems.map((p) => p.message)).toEqual([
      'matrix.a: a matrix vector needs at least one value',
      'matrix.include[0]: expected a mapping of matrix keys to values',
      'matrix.exclude[0]: "b" is not a matrix key (a)',
    ]);
  });
});
