import { looseEquals } from './compare.js';
import { foldCase, isPrimitive, kindOf, toStr } from './coerce.js';
import { evalError } from './errors.js';
import { formatString } from './format.js';
import { parseJsonText, toJsonText } from './json.js';
import type { MemoryBudget } from './memory.js';

/** Status functions success()/failure()/always()/cancelled() are answered by the caller. */
export interface StatusFunctions {
  success(): boolean;
  failure(): boolean;
  cancelled(): boolean;
}

/** What a function call may use besides its arguments. */
export interface CallState {
  memory: MemoryBudget;
  status: StatusFunctions | undefined;
  /** Position of the call, for errors. */
  pos: number;
}

type Builtin = (args: readonly unknown[], state: CallState) => unknown;

/** Both arguments as case-folded strings, or undefined when either is an array or object. */
function foldedPair(args: readonly unknown[]): [string, string] | undefined {
  const [a, b] = args;
  if (!isPrimitive(a) || !isPrimitive(b)) return undefined;
  return [foldCase(toStr(a)), foldCase(toStr(b))];
}

function status(name: 'success' | 'failure' | 'cancelled'): Builtin {
  return (_args, { status: answers, pos }) => {
    if (!answers) throw evalError(`${name}() can only be used in a step's if: condition`, pos);
    return answers[name]();
  };
}

/** The built-in functions except case(), which the evaluator runs lazily; names lowercased. */
const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['contains', (args) => {
    const [search, item] = args;
    if (kindOf(search) === 'array') return (search as unknown[]).some((v) => looseEquals(item, v));
    const pair = foldedPair(args);
    return pair !== undefined && pair[0].includes(pair[1]);
  }],
  ['startswith', (args) => {
    const pair = foldedPair(args);
    return pair !== undefined && pair[0].startsWith(pair[1]);
  }],
  ['endswith', (args) => {
    const pair = foldedPair(args);
    return pair !== undefined && pair[0].endsWith(pair[1]);
  }],
  ['format', (args, { memory, pos }) => formatString(args, memory, pos)],
  ['join', (args, { memory, pos }) => {
    const [items, separator] = args;
    if (isPrimitive(items)) return toStr(items);
    if (kindOf(items) !== 'array') return '';
    const sep = args.length > 1 && isPrimitive(separator) ? toStr(separator) : ',';
    const parts = (items as unknown[]).map((item) => toStr(item));
    memory.charge(parts.reduce((n, p) => n + p.length, 0) + sep.length * Math.max(parts.length - 1, 0), pos);
    return parts.join(sep);
  }],
  ['tojson', (args, { memory, pos }) => {
    const text = toJsonText(args[0], pos);
    memory.charge(text.length, pos);
    return text;
  }],
  ['fromjson', (args, { pos }) => parseJsonText(toStr(args[0]), pos)],
  ['success', status('success')],
  ['failure', status('failure')],
  ['cancelled', status('cancelled')],
  ['always', () => true],
]);

/** Call built-in `name` (lowercased) with evaluated arguments. */
export function callBuiltin(name: string, args: readonly unknown[], state: CallState): unknown {
  const fn = BUILTINS.get(name);
  if (!fn) throw new Error(`no built-in function ${name}`); // the parser only lets known names through
  return fn(args, state);
}
