import { parseError } from './errors.js';
import type { Token } from './lexer.js';

/** How many arguments each built-in function takes (names lowercased: calls are case-insensitive). */
export const FUNCTION_ARITY: ReadonlyMap<string, { min: number; max: number }> = new Map(Object.entries({
  contains: { min: 2, max: 2 },
  startswith: { min: 2, max: 2 },
  endswith: { min: 2, max: 2 },
  format: { min: 1, max: 255 },
  join: { min: 1, max: 2 },
  tojson: { min: 1, max: 1 },
  fromjson: { min: 1, max: 1 },
  case: { min: 3, max: 255 },
  success: { min: 0, max: 0 },
  failure: { min: 0, max: 0 },
  always: { min: 0, max: 0 },
  cancelled: { min: 0, max: 0 },
}));

/** Throw a parsing ExpressionError unless `name` (lowercased) is a known function taking `count` arguments. */
export function checkArity(name: string, id: Token, count: number): void {
  const arity = FUNCTION_ARITY.get(name);
  if (!arity) throw parseError(`Unrecognized function: '${id.lexeme}'`, id.pos);
  if (count < arity.min) throw parseError(`Too few parameters supplied: '${id.lexeme}'`, id.pos);
  if (count > arity.max) throw parseError(`Too many parameters supplied: '${id.lexeme}'`, id.pos);
  if (name === 'case' && count % 2 === 0) {
    throw parseError(`Even number of parameters supplied, requires an odd number of parameters: '${id.lexeme}'`, id.pos);
  }
}
