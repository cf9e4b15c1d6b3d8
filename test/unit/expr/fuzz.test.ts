import { describe, expect, it } from 'vitest';
import {
  collectReferences,
  evaluate,
  ExpressionError,
  parseExpression,
  parseTemplate,
  renderTemplate,
  toDisplayString,
  type EvalContext,
} from '../../../src/expr/index.js';

/** mulberry32: a tiny seeded PRNG, so a failure reproduces from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '(', ')', '[', ']', ',', '.', '*', '!', '!=', '==', '<', '<=', '>', '>=', '&&', '||', '=', '&', '|',
  "'", "''", "'abc'", "'}}'", "'{0}'", "'{'", "'[1,2]'", '\'{"a":{"b":1}}\'', '\'{"__proto__":{"polluted":1}}\'',
  '0', '1', '-1', '+2', '.5', '0x1f', '0o7', '1e3', '1e400', 'NaN', 'Infinity', '-Infinity', 'true', 'false', 'null',
  'vars', 'steps', 'env', 'obj', 'arr', 'str', 'nothing', 'x', 'Y-z', '_',
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'length', 'hasOwnProperty',
  'contains', 'startsWith', 'endsWith', 'format', 'join', 'toJSON', 'fromJSON', 'case',
  'success', 'failure', 'always', 'cancelled', 'hashFiles',
  ' ', ' ', ' ', '\n', '\t', '${{', '}}',
];
const ODD_CHARS = ['ı', 'İ', 'ß', 'Σ', 'ς', '😊', '\u00a0', '\u0000', '\u2028', '\\', '"', '`', '$', '#', '@', '%', '^', '~', '?', ':', ';', '-', '+'];

const CONTEXT_NAMES = ['vars', 'steps', 'env', 'obj', 'arr', 'str', 'nothing', 'x'];
const FUNCTIONS: [string, number, number][] = [
  ['contains', 2, 2], ['startsWith', 2, 2], ['endsWith', 2, 2], ['format', 1, 4], ['join', 1, 2],
  ['toJSON', 1, 1], ['fromJSON', 1, 1], ['case', 3, 5], ['success', 0, 0], ['failure', 0, 0],
  ['always', 0, 0], ['cancelled', 0, 0],
];

/** A random well-formed expression, so evaluation (not only parsing) gets exercised. */
function wellFormed(rand: () => number, depth: number): string {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const r = rand();
  if (depth <= 0 || r < 0.25) {
    return pick(["'abc'", "'ABC'", "''", "'{0}-{1}'", "'[1, \"a\", {\"b\": 2}]'", '1', '0', '-0', '.5', 'NaN', 'Infinity', 'true', 'false', 'null']);
  }
  const sub = () => wellFormed(rand, depth - 1);
  if (r < 0.45) {
    let e = pick(CONTEXT_NAMES);
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      e += pick(['.a', '.B', '.*', '[*]', '[0]', '[1]', "['a']", '.__proto__', '.constructor', '.toString', `[${sub()}]`]);
    }
    return e;
  }
  if (r < 0.6) return `${sub()} ${pick(['==', '!=', '<', '<=', '>', '>=', '&&', '||'])} ${sub()}`;
  if (r < 0.65) return `!${sub()}`;
  if (r < 0.7) return `(${sub()})`;
  const [name, min, max] = pick(FUNCTIONS);
  let count = min + Math.floor(rand() * (max - min + 1));
  if (name === 'case' && count % 2 === 0) count++;
  return `${name}(${Array.from({ length: count }, sub).join(', ')})`;
}

function soup(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 12);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.8) s += TOKENS[Math.floor(rand() * TOKENS.length)];
    else if (r < 0.9) s += ODD_CHARS[Math.floor(rand() * ODD_CHARS.length)];
    else s += String.fromCharCode(Math.floor(rand() * 0x80));
  }
  return s;
}

function mutate(rand: () => number, s: string): string {
  const at = Math.floor(rand() * (s.length + 1));
  const r = rand();
  if (r < 0.4) return s.slice(0, at) + s.slice(at + 1);
  if (r < 0.8) return s.slice(0, at) + TOKENS[Math.floor(rand() * TOKENS.length)] + s.slice(at);
  return s.slice(0, at) + ODD_CHARS[Math.floor(rand() * ODD_CHARS.length)] + s.slice(at);
}

function contexts(): Record<string, unknown> {
  return {
    vars: { a: 'x', B: 2, list: ['a', 'B', 3] },
    steps: { build: { status: 'succeeded', outputs: { a: 1 }, exit_code: 0 }, test: { status: 'failed', outputs: {} } },
    env: { A: 'value', B: '' },
    obj: { a: { b: [1, 2, { c: null }] }, b: true },
    arr: [[0, 1], { a: 'z' }, null, 'str'],
    str: 'Hello',
    nothing: null,
    x: 1.5,
  };
}

/** Run everything the program would run on `src`; return how it ended. Any non-ExpressionError escapes. */
function exercise(src: string, ctx: EvalContext): 'value' | 'parsing' | 'evaluation' {
  const guard = (fn: () => void): 'value' | 'parsing' | 'evaluation' => {
    try {
      fn();
      return 'value';
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      expect(e.pos).toBeGreaterThanOrEqual(0);
      return e.kind;
    }
  };
  let expr: ReturnType<typeof parseExpression> | undefined;
  const parsed = guard(() => {
    expr = parseExpression(src);
  });
  if (parsed === 'parsing') {
    guard(() => parseTemplate(`\${{ ${src} }}`));
    return parsed;
  }
  expect(parsed).toBe('value');
  collectReferences(expr!);
  return guard(() => {
    toDisplayString(evaluate(expr!, ctx));
    renderTemplate(parseTemplate(`a \${{ ${src} }} b`), ctx);
  });
}

describe('fuzz: random input yields a value or an ExpressionError', () => {
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const arrayProtoBefore = Object.getOwnPropertyNames(Array.prototype).sort();

  it.each([1, 2, 3, 4])('seed %i', (seed) => {
    const rand = prng(seed);
    const tally = { value: 0, parsing: 0, evaluation: 0 };
    const status = { success: () => rand() < 0.5, failure: () => rand() < 0.5, cancelled: () => false };
    for (let i = 0; i < 1500; i++) {
      const r = rand();
      let src = r < 0.45 ? wellFormed(rand, 4) : r < 0.75 ? soup(rand) : mutate(rand, wellFormed(rand, 3));
      if (rand() < 0.2) src = mutate(rand, src);
      const ctx: EvalContext = rand() < 0.5 ? { contexts: contexts(), status } : { contexts: contexts() };
      try {
        tally[exercise(src, ctx)]++;
      } catch (e) {
        throw new Error(`seed ${seed} case ${i}: ${JSON.stringify(src)} threw ${String(e)}`, { cause: e });
      }
    }
    // Sanity: the generator reaches all three outcomes.
    expect(tally.value).toBeGreaterThan(100);
    expect(tally.parsing).toBeGreaterThan(100);
    expect(tally.evaluation).toBeGreaterThan(0);
  });

  it('left Object.prototype and Array.prototype alone', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayProtoBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
