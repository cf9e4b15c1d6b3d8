import { parseUntrustedJson } from '../util/json.js';
import { evalError } from './errors.js';

/** Containers nested deeper than this are not serialised (a guard against runaway recursion). */
const MAX_JSON_DEPTH = 1000;

/** Values JSON leaves out of objects (and writes as null in arrays). */
const isUnrepresentable = (v: unknown): boolean =>
  v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * Pretty JSON with two-space indentation, like `JSON.stringify(value, null, 2)` but never calling a
 * value's own `toJSON` method; cycles and excessive depth are evaluation errors at `pos`.
 */
export function toJsonText(value: unknown, pos = 0): string {
  const ancestors = new Set<object>();

  const write = (v: unknown, indent: string): string => {
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'number':
        return Number.isFinite(v) ? JSON.stringify(v) : 'null';
      case 'bigint':
        return String(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object':
        if (v === null) return 'null';
        break;
      default:
        return 'null';
    }
    if (ancestors.has(v)) throw evalError('Cannot convert a value that contains itself to JSON', pos);
    if (ancestors.size >= MAX_JSON_DEPTH) throw evalError(`Value nested deeper than ${MAX_JSON_DEPTH} levels`, pos);
    ancestors.add(v);
    const inner = `${indent}  `;
    let items: string[];
    let open = '{';
    let close = '}';
    if (Array.isArray(v)) {
      [open, close] = ['[', ']'];
      items = Array.from(v, (item) => inner + (isUnrepresentable(item) ? 'null' : write(item, inner)));
    } else {
      const record = v as Record<string, unknown>;
      items = Object.keys(record)
        .filter((key) => !isUnrepresentable(record[key]))
        .map((key) => `${inner}${JSON.stringify(key)}: ${write(record[key], inner)}`);
    }
    ancestors.delete(v);
    return items.length === 0 ? open + close : `${open}\n${items.join(',\n')}\n${indent}${close}`;
  };

  return write(value, '');
}

/** Parse JSON text for fromJSON(); bad or empty JSON is an evaluation error at `pos`. */
export function parseJsonText(text: string, pos: number): unknown {
  if (text.trim() === '') throw evalError('Error parsing fromJson: empty input', pos);
  const parsed = parseUntrustedJson(text);
  if ('error' in parsed) throw evalError(`Error parsing fromJson: ${parsed.error}`, pos);
  return parsed.value;
}
