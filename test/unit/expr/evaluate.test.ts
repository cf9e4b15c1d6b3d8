import { describe, expect, it } from 'vitest';
import {
  evaluate,
  ExpressionError,
  isTruthy,
  parseExpression,
  toDisplayString,
  type EvalContext,
} from '../../../src/expr/index.js';

const run = (src: string, ctx: EvalContext = { contexts: {} }) => evaluate(parseExpression(src), ctx);

function failure(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw e;
  }
  throw new Error('expected an ExpressionError');
}

describe('status functions', () => {
  const status = (s: { success: boolean; failure: boolean; cancelled: boolean }) => ({
    success: () => s.success,
    failure: () => s.failure,
    cancelled: () => s.cancelled,
  });

  it('asks the caller', () => {
    const ctx = { contexts: {}, status: status({ success: false, failure: true, cancelled: false }) };
    expect(run('success()', ctx)).toBe(false);
    expect(run('FAILURE()', ctx)).toBe(true);
    expect(run('cancelled()', ctx)).toBe(false);
    expect(run('always()', ctx)).toBe(true);
    expect(run('failure() && !cancelled()', ctx)).toBe(true);
  });

  it('always() needs no status; the others are evaluation errors without one', () => {
    expect(run('always()')).toBe(true);
    for (const src of ['success()', 'failure()', 'cancelled()']) {
      const error = failure(() => run(`true && ${src}`));
      expect(error.kind).toBe('evaluation');
      expect(error.pos).toBe(8);
    }
  });

  it('checks arity at parse time', () => {
    expect(failure(() => parseExpression('success(1)')).kind).toBe('parsing');
    expect(failure(() => parseExpression('always(true)')).kind).toBe('parsing');
  });
});

describe('evaluation', () => {
  const contexts = {
    steps: {
      build: { status: 'succeeded', outputs: { Version: '1.2' }, exit_code: 0 },
      test: { status: 'failed', outputs: {}, exit_code: 1 },
    },
    vars: { project: 'notes' },
  };

  it.each<[string, unknown]>([
    ['steps.build.outputs.version', '1.2'],
    ['STEPS.Build.Outputs.VERSION', '1.2'],
    ['steps.*.status', ['succeeded', 'failed']],
    ["contains(steps.*.status, 'FAILED')", true],
    ['steps.test.exit_code != 0', true],
    ['steps.missing.outputs.x', null],
    ["case(vars.project == 'notes', 'yes', fromJSON('not json'))", 'yes'],
    ["vars.project == 'notes' || fromJSON('not json')", true],
    ["format('{0}', 1e-7)", '0.0000001'],
    ["format('{0}', 1 / 3)", null],
  ])('%s', (src, want) => {
    if (want === null && src.includes('/')) {
      expect(() => parseExpression(src)).toThrow(ExpressionError);
      return;
    }
    expect(run(src, { contexts })).toEqual(want);
  });

  it('reports evaluation errors at the failing node', () => {
    expect(failure(() => run("1 == fromJSON('{')"))).toMatchObject({ kind: 'evaluation', pos: 5 });
    expect(failure(() => run("format('{1}', 'a')"))).toMatchObject({ kind: 'evaluation', pos: 0 });
    expect(run("case(true, 1, 'x', 2, 3)")).toBe(1);
    expect(failure(() => run("case(false, 1, 'x', 2, 3)"))).toMatchObject({ kind: 'evaluation', pos: 15 });
  });

  it('caps the memory of runaway string building', () => {
    const nested = "format('{0}{0}{0}{0}{0}{0}{0}{0}', ".repeat(8) + "'abcdefgh'" + ')'.repeat(8);
    expect(failure(() => run(nested))).toMatchObject({ kind: 'evaluation' });
    expect(run("join(fromJSON('[1,2,3]'), '-')")).toBe('1-2-3');
  });

  it('restricts context names only when asked', () => {
    expect(run('anything.at.all')).toBeNull();
    expect(failure(() => parseExpression('nope.x', { contexts: ['vars'] }))).toMatchObject({ kind: 'parsing', pos: 0 });
    expect(parseExpression('VARS.x', { contexts: ['vars'] })).toMatchObject({ kind: 'index' });
  });

  it('rejects over-long expressions at parse time', () => {
    expect(failure(() => parseExpression(`'${'a'.repeat(21_000)}'`)).kind).toBe('parsing');
  });

  it('treats undefined, functions and bigints in contexts as data, not code', () => {
    const ctx = { contexts: { x: { u: undefined, b: 10n, f: () => 1 } } };
    expect(run('x.u', ctx)).toBeNull();
    expect(run('x.b == 10', ctx)).toBe(true);
    expect(run('x.f', ctx)).toBeNull();
  });
});

describe('toDisplayString', () => {
  it.each<[unknown, string]>([
    [null, ''],
    [undefined, ''],
    [true, 'true'],
    [false, 'false'],
    [0, '0'],
    [-0, '0'],
    [1.5, '1.5'],
    [-2, '-2'],
    [0.1 + 0.2, '0.3'],
    [123456.789, '123456.789'],
    [0.84551240822557006, '0.84551240822557'],
    [1e21, '1000000000000000000000'],
    [-1.5e-7, '-0.00000015'],
    [1e-20, '0'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    ['"; rm -rf ~; "', '"; rm -rf ~; "'],
    [[], '[]'],
    [{}, '{}'],
    [{ a: [1, { b: null }] }, '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}'],
  ])('%j -> %j', (value, want) => {
    expect(toDisplayString(value)).toBe(want);
  });

  it('refuses cyclic values with an ExpressionError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toDisplayString(cyclic)).toThrow(ExpressionError);
  });
});

describe('isTruthy', () => {
  it.each<[unknown, boolean]>([
    [null, false],
    [undefined, false],
    [false, false],
    [0, false],
    [-0, false],
    [Number.NaN, false],
    ['', false],
    [true, true],
    [1, true],
    ['0', true],
    ['false', true],
    [[], true],
    [{}, true],
  ])('%j -> %s', (value, want) => {
    expect(isTruthy(value)).toBe(want);
  });
});
