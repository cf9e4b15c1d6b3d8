import { describe, expect, it } from 'vitest';
import { ExpressionError, hasTemplate, parseTemplate, renderTemplate, type TemplatePart } from '../../../src/expr/index.js';

const ctx = {
  contexts: {
    vars: { name: 'notes', n: 3, flag: true, nothing: null, list: [1, 'a'], obj: { a: 1 } },
    env: { HOME: '/home/me' },
  },
};

/** Parts without the AST, for readable expectations. */
function shape(parts: TemplatePart[]) {
  return parts.map((p) => (p.kind === 'text' ? p.text : { source: p.source, offset: p.offset }));
}

function parseFailure(field: string): ExpressionError {
  try {
    parseTemplate(field);
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(field)} to fail`);
}

describe('hasTemplate', () => {
  it.each([
    ['plain', false],
    ['${ not }', false],
    ['$ {{ not }}', false],
    ['a ${{ b }}', true],
    ['unclosed ${{', true],
  ])('%j -> %s', (field, want) => {
    expect(hasTemplate(field)).toBe(want);
  });
});

describe('parseTemplate', () => {
  it.each<[string, ReturnType<typeof shape>]>([
    ['', []],
    ['plain text', ['plain text']],
    ['a ${{ vars.name }} b', ['a ', { source: ' vars.name ', offset: 5 }, ' b']],
    ['${{ vars.name }}', [{ source: ' vars.name ', offset: 3 }]],
    ['${{1}}${{2}}', [{ source: '1', offset: 3 }, { source: '2', offset: 9 }]],
    ["${{ '}}' }}", [{ source: " '}}' ", offset: 3 }]],
    ["x ${{ 'it''s }}' }} y", ['x ', { source: " 'it''s }}' ", offset: 5 }, ' y']],
    ['${{ 1 }}}', [{ source: ' 1 ', offset: 3 }, '}']],
    ['{{ not }} ${ also not }', ['{{ not }} ${ also not }']],
  ])('%j', (field, want) => {
    expect(shape(parseTemplate(field))).toEqual(want);
  });

  it.each<[string, number, RegExp]>([
    ['echo ${{ vars.name', 5, /Unclosed/],
    ["${{ 'abc }}", 0, /Unclosed/],
    ['ok ${{ 1 }} then ${{ 2', 17, /Unclosed/],
    ['ab ${{ 1 2 }}', 9, /Unexpected symbol: '2'/],
    ['x ${{ nosuch() }}', 6, /Unrecognized function/],
    ['x ${{ }}', 2, /expression was expected/],
    ['${{ 1 = 2 }}', 6, /Unexpected symbol/],
  ])('%j fails at %i', (field, pos, message) => {
    const error = parseFailure(field);
    expect(error.kind).toBe('parsing');
    expect(error.pos).toBe(pos);
    expect(error.message).toMatch(message);
  });
});

describe('renderTemplate', () => {
  it.each([
    ['no expressions', 'no expressions'],
    ['hello ${{ vars.name }}!', 'hello notes!'],
    ['${{ vars.n }}', '3'],
    ['${{ vars.n * 2 }}', null],
    ['${{ vars.flag }}', 'true'],
    ['[${{ vars.nothing }}]', '[]'],
    ['[${{ vars.missing }}]', '[]'],
    ['${{ vars.list }}', '[\n  1,\n  "a"\n]'],
    ['${{ vars.obj }}', '{\n  "a": 1\n}'],
    ['${{ 0.1 }}/${{ -0 }}/${{ 1e21 }}', '0.1/0/1000000000000000000000'],
    ["${{ format('{0}-{1}', vars.name, env.home) }}", 'notes-/home/me'],
    ["${{ '}}' }}", '}}'],
    ['${{1}}${{2}}', '12'],
  ])('%j -> %j', (field, want) => {
    if (want === null) {
      expect(() => parseTemplate(field)).toThrow(ExpressionError);
      return;
    }
    expect(renderTemplate(parseTemplate(field), ctx)).toBe(want);
  });

  it('reports evaluation errors with the position inside the expression', () => {
    const parts = parseTemplate("x ${{ fromJSON('{') }}");
    expect(() => renderTemplate(parts, ctx)).toThrow(expect.objectContaining({ kind: 'evaluation' }));
  });
});
