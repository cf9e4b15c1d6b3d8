import { toJsonText } from './json.js';

/** The kinds of value the language knows (GitHub's Null, Boolean, Number, String, Array, Object). */
export type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

/** The kind of a value; undefined, functions and symbols count as null, bigints as numbers. */
export function kindOf(value: unknown): Kind {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? 'array' : 'object';
    default:
      return 'null';
  }
}

/** True for null, booleans, numbers and strings. */
export function isPrimitive(value: unknown): boolean {
  const kind = kindOf(value);
  return kind !== 'array' && kind !== 'object';
}

/** GitHub's conversion to a number: null 0, booleans 0/1, strings as JS `Number()` reads them, containers NaN. */
export function toNumber(value: unknown): number {
  switch (kindOf(value)) {
    case 'null':
      return 0;
    case 'boolean':
      return value ? 1 : 0;
    case 'number':
      return Number(value);
    case 'string':
      return Number(value);
    default:
      return Number.NaN;
  }
}

/** GitHub's conversion to a string inside functions: null '', containers 'Array' / 'Object'. */
export function toStr(value: unknown): string {
  switch (kindOf(value)) {
    case 'null':
      return '';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return formatNumber(Number(value));
    case 'string':
      return value as string;
    case 'array':
      return 'Array';
    case 'object':
      return 'Object';
  }
}

/** GitHub's conversion of a value to a string for interpolation (null -> '', numbers as GitHub formats them, objects/arrays as JSON). */
export function toDisplayString(value: unknown): string {
  const kind = kindOf(value);
  return kind === 'array' || kind === 'object' ? toJsonText(value) : toStr(value);
}

/** GitHub truthiness. */
export function isTruthy(value: unknown): boolean {
  switch (kindOf(value)) {
    case 'null':
      return false;
    case 'boolean':
      return value === true;
    case 'number': {
      const n = Number(value);
      return n !== 0 && !Number.isNaN(n);
    }
    case 'string':
      return (value as string).length > 0;
    default:
      return true;
  }
}

/** A number as GitHub prints it: at most 15 significant digits and 15 decimals, never an exponent, -0 as 0. */
export function formatNumber(value: number): string {
  // An integer of at most 15 digits (an item index, a count) prints as itself: no rounding can change it.
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value === 0 ? 0 : value);
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  let n = Number(value.toPrecision(15));
  if (Math.abs(n) < 1e21) n = Number(n.toFixed(15));
  if (n === 0) return '0';
  return expandExponent(String(n));
}

/** Rewrite `1.5e-7` / `1.2e+21` in plain decimal notation. */
function expandExponent(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Case folding for comparisons, like .NET's OrdinalIgnoreCase: each character is upper-cased
 * on its own (so 'ß' stays 'ß'), and the dotless 'ı' is left alone (so it never equals 'I').
 */
export function foldCase(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s.toUpperCase();
  let out = '';
  for (const ch of s) {
    const upper = ch === 'ı' ? ch : ch.toUpperCase();
    out += [...upper].length === 1 ? upper : ch;
  }
  return out;
}
