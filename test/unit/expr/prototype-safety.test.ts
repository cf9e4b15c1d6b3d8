import { describe, expect, it } from 'vitest';
import { evaluate, parseExpression, renderTemplate, parseTemplate } from '../../../src/expr/index.js';

const contexts = () => ({
  obj: { a: 1, nested: { b: 2 } },
  arr: ['x', 'y'],
  str: 'text',
  fn: () => 'secret',
  withGetter: Object.defineProperty({}, 'lazy', { get: () => 'ok', enumerable: true }),
  inherits: Object.assign(Object.create({ inherited: 'from prototype' }) as object, { own: 'mine' }),
});

const run = (src: string, ctx: Record<string, unknown> = contexts()) => evaluate(parseExpression(src), { contexts: ctx });

describe('prototype safety', () => {
  it.each([
    'obj.__proto__',
    'obj.constructor',
    'obj.prototype',
    'obj.CONSTRUCTOR',
    'obj.__PROTO__',
    "obj['__proto__']",
    "obj['constructor']",
    "obj['prototype']",
    'obj.toString',
    'obj.valueOf',
    'obj.hasOwnProperty',
    'obj.isPrototypeOf',
    'obj.__defineGetter__',
    'obj.nested.constructor',
    'obj.constructor.prototype',
    'obj.constructor.constructor',
    'arr.length',
    'arr.constructor',
    'arr.push',
    "arr['map']",
    'str.length',
    'str.constructor',
    'inherits.inherited',
    'fn',
    'fn.call',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    "fromJSON('{\"__proto__\": {\"x\": 1}}').__proto__",
    "fromJSON('{\"__proto__\": {\"x\": 1}}').x",
    "fromJSON('{\"constructor\": 1}').constructor",
    "fromJSON('{\"prototype\": 1}')['Prototype']",
    "fromJSON('{}').constructor",
    "fromJSON('[]').constructor",
  ])('%s is null', (src) => {
    expect(run(src)).toBeNull();
  });

  it('lists only own data under *, never functions or blocked keys', () => {
    expect(run('obj.*')).toEqual([1, { b: 2 }]);
    expect(run("fromJSON('{\"__proto__\": 1, \"constructor\": 2, \"prototype\": 3, \"ok\": 4}').*")).toEqual([4]);
    expect(run('obj.*.constructor')).toEqual([]);
    expect(run('inherits.*')).toEqual(['mine']);
    expect(run('withGetter.lazy')).toBe('ok');
  });

  it('never turns functions into text', () => {
    expect(run("format('{0}|{1}|{2}', obj.toString, fn, obj.constructor)")).toBe('||');
    expect(run('toJSON(obj.constructor)')).toBe('null');
    expect(run("join(fromJSON('[1]').constructor)")).toBe('');
    expect(renderTemplate(parseTemplate('${{ obj.toString }}${{ fn }}'), { contexts: contexts() })).toBe('');
    expect(run("contains(obj.toString, 'function')")).toBe(false);
  });

  it('does not modify Object.prototype', () => {
    run("fromJSON('{\"__proto__\": {\"polluted\": true}}')");
    run("fromJSON('{\"constructor\": {\"prototype\": {\"polluted\": true}}}')");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('does not resolve inherited context names', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.vars = { a: 1 };
    expect(run('vars.a', bare)).toBe(1);
    expect(run('valueOf', {})).toBeNull();
  });
});
