import { describe, expect, it } from 'vitest';
import { collectReferences, parseExpression } from '../../../src/expr/index.js';

describe('collectReferences', () => {
  it.each<[string, { context: string; path: string[]; pos: number }[]]>([
    ['steps.build.outputs.x', [{ context: 'steps', path: ['build', 'outputs', 'x'], pos: 0 }]],
    ["steps['build'].status", [{ context: 'steps', path: ['build', 'status'], pos: 0 }]],
    ['steps.*.status', [{ context: 'steps', path: ['*', 'status'], pos: 0 }]],
    ['steps[*].outputs', [{ context: 'steps', path: ['*', 'outputs'], pos: 0 }]],
    [
      'steps[vars.x].status',
      [
        { context: 'steps', path: [], pos: 0 },
        { context: 'vars', path: ['x'], pos: 6 },
      ],
    ],
    [
      'steps.a[steps.b.k].y',
      [
        { context: 'steps', path: ['a'], pos: 0 },
        { context: 'steps', path: ['b', 'k'], pos: 8 },
      ],
    ],
    ['Steps.Build.OUTPUTS', [{ context: 'steps', path: ['Build', 'OUTPUTS'], pos: 0 }]],
    ['(steps.a).outputs', [{ context: 'steps', path: ['a', 'outputs'], pos: 1 }]],
    ['vars[1]', [{ context: 'vars', path: ['1'], pos: 0 }]],
    ['vars[0x0f]', [{ context: 'vars', path: ['15'], pos: 0 }]],
    ['vars[true].x', [{ context: 'vars', path: ['true', 'x'], pos: 0 }]],
    ['vars', [{ context: 'vars', path: [], pos: 0 }]],
    ["fromJSON(vars.json).x", [{ context: 'vars', path: ['json'], pos: 9 }]],
    [
      "vars.a == 'x' && !env.B || job.id",
      [
        { context: 'vars', path: ['a'], pos: 0 },
        { context: 'env', path: ['B'], pos: 18 },
        { context: 'job', path: ['id'], pos: 27 },
      ],
    ],
    ["'steps.a.b'", []],
    ['', []],
  ])('%j', (src, want) => {
    expect(collectReferences(parseExpression(src)).contexts).toEqual(want);
  });

  it.each<[string, { name: string; pos: number }[]]>([
    ['success()', [{ name: 'success', pos: 0 }]],
    ['Always() || FAILURE()', [{ name: 'always', pos: 0 }, { name: 'failure', pos: 12 }]],
    ["format('{0}', toJSON(vars.x))", [{ name: 'format', pos: 0 }, { name: 'tojson', pos: 14 }]],
    ['case(cancelled(), 1, 2)', [{ name: 'case', pos: 0 }, { name: 'cancelled', pos: 5 }]],
    ['vars[join(env.*)]', [{ name: 'join', pos: 5 }]],
    ['vars.success', []],
  ])('functions of %j', (src, want) => {
    expect(collectReferences(parseExpression(src)).functions).toEqual(want);
  });
});
