import { foldCase, kindOf, toNumber } from './coerce.js';

/**
 * Bring two values to a common kind the way GitHub does (like JS `==`, but containers are never
 * converted): null and booleans become numbers, and a string meeting a number becomes a number.
 */
function coercePair(left: unknown, right: unknown): [unknown, unknown] {
  const lk = kindOf(left);
  const rk = kindOf(right);
  if (lk === rk) return [left, right];
  if (lk === 'number' && rk === 'string') return [left, toNumber(right)];
  if (lk === 'string' && rk === 'number') return [toNumber(left), right];
  if (lk === 'null' || lk === 'boolean') return coercePair(toNumber(left), right);
  if (rk === 'null' || rk === 'boolean') return coercePair(left, toNumber(right));
  return [left, right];
}

/** GitHub's `==`: loose coercion, case-insensitive strings, NaN equal to nothing, containers by reference. */
export function looseEquals(left: unknown, right: unknown): boolean {
  const [l, r] = coercePair(left, right);
  const kind = kindOf(l);
  if (kind !== kindOf(r)) return false;
  switch (kind) {
    case 'null':
      return true;
    case 'number':
      return Number(l) === Number(r);
    case 'string':
      return foldCase(l as string) === foldCase(r as string);
    default:
      return l === r;
  }
}

/** Ordering of two values after coercion: -1, 0, 1, or undefined when they are not comparable (NaN, containers). */
function order(left: unknown, right: unknown): -1 | 0 | 1 | undefined {
  const [l, r] = coercePair(left, right);
  const kind = kindOf(l);
  if (kind !== kindOf(r)) return undefined;
  let a: number | string | boolean;
  let b: number | string | boolean;
  switch (kind) {
    case 'number':
      a = Number(l);
      b = Number(r);
      if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
      break;
    case 'string':
      a = foldCase(l as string);
      b = foldCase(r as string);
      break;
    case 'boolean':
      a = l as boolean;
      b = r as boolean;
      break;
    default:
      return undefined;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** GitHub's `<`. */
export function lessThan(left: unknown, right: unknown): boolean {
  return order(left, right) === -1;
}

/** GitHub's `>`. */
export function greaterThan(left: unknown, right: unknown): boolean {
  return order(left, right) === 1;
}
