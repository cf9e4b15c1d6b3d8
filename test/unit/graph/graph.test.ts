import { describe, expect, it } from 'vitest';
import { buildGraph, downstreamOf, topologicalOrder, upstreamOf, type Graph } from '../../../src/graph/build.js';
import { findCycles } from '../../../src/graph/cycles.js';
import { longestRemainingPath } from '../../../src/graph/priority.js';
import { jobSpecOf } from '../../helpers/fake-executor.js';

function graphOf(needs: Record<string, string[]>): Graph {
  return buildGraph(jobSpecOf(Object.fromEntries(Object.entries(needs).map(([id, n]) => [id, { needs: n }]))).steps);
}

const ids = (g: Graph, xs: Iterable<number>) => [...xs].map((i) => g.ids[i]!);

describe('buildGraph', () => {
  it('indexes steps in spec order with needs and children', () => {
    const g = graphOf({ a: [], b: ['a'], c: ['a', 'b'] });
    expect(g.ids).toEqual(['a', 'b', 'c']);
    expect(g.index.get('c')).toBe(2);
    expect(g.needs).toEqual([[], [0], [0, 1]]);
    expect(g.children).toEqual([[1, 2], [2], []]);
  });
});

describe('topologicalOrder', () => {
  it('puts every step after all of its needs', () => {
    const needs = { deploy: ['test', 'docs'], test: ['build'], docs: ['build'], build: ['fetch'], fetch: [], lint: [] };
    const g = graphOf(needs);
    const order = ids(g, topologicalOrder(g));
    expect(order).toHaveLength(6);
    for (const [id, ns] of Object.entries(needs)) for (const n of ns) expect(order.indexOf(n)).toBeLessThan(order.indexOf(id));
  });

  it('handles a long chain without recursion', () => {
    const needs: Record<string, string[]> = { s0: [] };
    for (let i = 1; i < 20_000; i++) needs[`s${i}`] = [`s${i - 1}`];
    const g = graphOf(needs);
    const order = topologicalOrder(g);
    expect(order).toHaveLength(20_000);
    expect(order[19_999]).toBe(19_999);
  });
});

describe('upstreamOf / downstreamOf', () => {
  const g = graphOf({ a: [], b: ['a'], c: ['b'], x: [], d: ['c', 'x'] });
  it('upstream: every transitive need, not the step itself', () => {
    expect(ids(g, upstreamOf(g, g.index.get('d')!)).sort()).toEqual(['a', 'b', 'c', 'x']);
    expect(ids(g, upstreamOf(g, g.index.get('a')!))).toEqual([]);
  });
  it('downstream: the roots and everything that depends on them', () => {
    expect(ids(g, downstreamOf(g, [g.index.get('b')!])).sort()).toEqual(['b', 'c', 'd']);
    expect(ids(g, downstreamOf(g, [g.index.get('x')!])).sort()).toEqual(['d', 'x']);
  });
});

describe('findCycles', () => {
  const cyclesOf = (needs: Record<string, string[]>) => findCycles(Object.keys(needs), new Map(Object.entries(needs)));

  it('names a three-step cycle as a closed path following needs', () => {
    expect(cyclesOf({ a: ['b'], b: ['c'], c: ['a'] })).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('finds a two-step cycle hanging off an acyclic part', () => {
    expect(cyclesOf({ root: [], a: ['root', 'b'], b: ['a'], z: ['a'] })).toEqual([['a', 'b', 'a']]);
  });

  it('finds separate cycles separately', () => {
    const found = cyclesOf({ a: ['b'], b: ['a'], x: ['y'], y: ['z'], z: ['x'] });
    expect(found).toEqual([
      ['a', 'b', 'a'],
      ['x', 'y', 'z', 'x'],
    ]);
  });

  it('reports nothing for a DAG, including diamonds', () => {
    expect(cyclesOf({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] })).toEqual([]);
  });

  it('ignores edges to unknown nodes', () => {
    expect(cyclesOf({ a: ['ghost'] })).toEqual([]);
  });

  it('handles a 20 000-step chain that closes on itself without recursion', () => {
    const needs: Record<string, string[]> = {};
    for (let i = 0; i < 20_000; i++) needs[`s${i}`] = [`s${(i + 1) % 20_000}`];
    const [cycle, ...rest] = cyclesOf(needs);
    expect(rest).toEqual([]);
    expect(cycle).toHaveLength(20_001);
    expect(cycle![0]).toBe('s0');
    expect(cycle!.at(-1)).toBe('s0');
  });
});

describe('longestRemainingPath', () => {
  it('counts the step itself plus its longest chain of dependents', () => {
    const g = graphOf({ a: [], b: ['a'], c: ['b'], x: [], y: ['a'] });
    const rank = longestRemainingPath(g, () => 1);
    expect(Object.fromEntries(g.ids.map((id, i) => [id, rank[i]]))).toEqual({ a: 3, b: 2, c: 1, x: 1, y: 1 });
  });

  it('uses the weights it is given', () => {
    const g = graphOf({ a: [], slow: ['a'], fast1: ['a'], fast2: ['fast1'] });
    const w: Record<string, number> = { a: 1, slow: 10, fast1: 1, fast2: 1 };
    const rank = longestRemainingPath(g, (i) => w[g.ids[i]!]!);
    expect(rank[g.index.get('a')!]).toBe(11);
    expect(rank[g.index.get('fast1')!]).toBe(2);
  });
});
