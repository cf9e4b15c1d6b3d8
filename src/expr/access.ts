import { foldCase, isPrimitive, kindOf, toNumber, toStr } from './coerce.js';

/** Names that never resolve, whatever their case: no path from data to a prototype or a constructor. */
const BLOCKED = new Set(['__proto__', 'constructor', 'prototype']);

/** True if a property name must never resolve. */
export function isBlockedName(name: string): boolean {
  return BLOCKED.has(name.toLowerCase());
}

/** Arrays produced by `*`: indexing one applies the index to each element (GitHub's filtered arrays). */
const filteredArrays = new WeakSet<unknown[]>();

function filtered(items: unknown[]): unknown[] {
  filteredArrays.add(items);
  return items;
}

/** A value read from data, as the language sees it: undefined, functions and symbols are null. */
function normalize(value: unknown): unknown {
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return null;
    case 'bigint':
      return Number(value);
    default:
      return value;
  }
}

/**
 * An own property of `obj` named `name`, case-insensitively (an exact match wins, then the first
 * match in key order); undefined when absent. Never walks the prototype chain.
 */
export function getProperty(obj: object, name: string): unknown {
  if (isBlockedName(name)) return undefined;
  const record = obj as Record<string, unknown>;
  if (Object.hasOwn(obj, name)) return normalize(record[name]);
  const folded = foldCase(name);
  for (const key of Object.keys(obj)) {
    if (!isBlockedName(key) && foldCase(key) === folded) return normalize(record[key]);
  }
  return undefined;
}

/** Own values of an object (keys that never resolve are left out) or the items of an array. */
function children(value: unknown): unknown[] {
  const kind = kindOf(value);
  if (kind === 'array') return Array.from(value as unknown[], normalize);
  if (kind !== 'object') return [];
  const record = value as Record<string, unknown>;
  return Object.keys(record).filter((key) => !isBlockedName(key)).map((key) => normalize(record[key]));
}

/** `value.*` / `value[*]`: the items of an array or the values of an object, as a filtered array. */
export function starOf(value: unknown): unknown[] {
  if (Array.isArray(value) && filteredArrays.has(value)) return filtered(value.flatMap(children));
  return filtered(children(value));
}

/** The array position an index names, or undefined (negative, fractional part dropped, NaN). */
function arrayPosition(index: unknown): number | undefined {
  const n = toNumber(index);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

/** One element of `value[index]`, or undefined when there is none. */
function lookup(value: unknown, index: unknown): unknown {
  const kind = kindOf(value);
  if (kind === 'array') {
    const array = value as unknown[];
    const pos = arrayPosition(index);
    return pos !== undefined && pos < array.length ? normalize(array[pos]) : undefined;
  }
  if (kind === 'object' && isPrimitive(index)) return getProperty(value as object, toStr(index));
  return undefined;
}

/** `value[index]` (and `value.name`): null when absent; on a filtered array, applied to each element. */
export function indexValue(value: unknown, index: unknown): unknown {
  if (Array.isArray(value) && filteredArrays.has(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const found = lookup(item, index);
      if (found !== undefined) out.push(found);
    }
    return filtered(out);
  }
  return lookup(value, index) ?? null;
}
