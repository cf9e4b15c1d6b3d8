/**
 * Parse JSON that came from outside (a step's stdout, $ORCH_OUTPUT, fromJSON()), so that neither its size
 * nor its shape can crash the orchestrator and no error message repeats any of its text: V8's own
 * messages quote the input ("sk-live-01"... is not valid JSON), which may hold a secret, cut short where
 * the mask no longer finds it. Containers nested deeper than MAX_JSON_DEPTH are refused before parsing:
 * JSON.parse accepts them, but JSON.stringify (the outputs file, the manifest, events) recurses and
 * overflows the stack near 10,000 levels.
 */

/** The deepest nesting of objects and arrays accepted from outside. */
export const MAX_JSON_DEPTH = 512;

/** The parsed value, or a message that says what is wrong and where, never what the text says. */
export function parseUntrustedJson(text: string): { value: unknown } | { error: string } {
  const deepAt = depthExceededAt(text, MAX_JSON_DEPTH);
  if (deepAt !== undefined) return { error: `nested deeper than ${MAX_JSON_DEPTH} levels (at ${where(text, deepAt)})` };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (e) {
    const message = (e as Error).message;
    if (/Unexpected end of JSON input/.test(message)) return { error: 'not JSON (it ends too early)' };
    // V8 on Node 20 gives a position for few errors: the scan finds it for all. Its offset only: its message may quote the text.
    const at = jsonSyntaxError(text)?.offset ?? Number(/at position (\d+)/.exec(message)?.[1] ?? NaN);
    return { error: `not JSON${Number.isNaN(at) ? '' : ` (at ${where(text, at)})`}` };
  }
}

/** Where JSON text first goes wrong, and what is wrong there in a few words (they may quote a short piece of it). */
export interface JsonSyntaxError {
  offset: number;
  message: string;
}

/** What the scan looks for next. */
type Expecting = 'value' | 'value or ]' | 'key' | 'key or }' | ':' | 'after value';

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
/** A short piece of text to name what was found: a word, else one character. */
const WORD = /[^\s{}[\],:"]{1,20}/y;

/**
 * The first JSON syntax error of `text` and its offset, or undefined when `text` is JSON. JSON.parse on Node 20
 * gives no position for most errors ("Unexpected token '}', ..."tru}\n  }" is not valid JSON", a garbled
 * quote of several lines), so this scan finds it: one pass, an explicit stack (no depth can overflow it), no
 * regular expression over a string's contents (a step's stdout may be megabytes of one string).
 */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const closers: string[] = [];
  let expecting: Expecting = 'value';
  let i = 0;
  const error = (at: number, what: string) => ({ offset: at, message: `expected ${what}, found ${foundAt(text, at)}` });
  for (;;) {
    while (isSpace(text[i])) i++;
    const c = text[i];
    if (expecting === ':') {
      if (c !== ':') return error(i, '`:` after the property name');
      i++;
      expecting = 'value';
    } else if (expecting === 'after value') {
      const closer = closers.at(-1);
      if (closer === undefined) return i < text.length ? error(i, 'the end of the text after the value') : undefined;
      if (c === ',') {
        i++;
        expecting = closer === '}' ? 'key' : 'value';
      } else if (c === closer) {
        i++;
        closers.pop();
      } else return error(i, `\`,\` or \`${closer}\``);
    } else if ((expecting === 'value or ]' && c === ']') || (expecting === 'key or }' && c === '}')) {
      i++;
      closers.pop();
      expecting = 'after value';
    } else if (expecting === 'key' || expecting === 'key or }') {
      if (c !== '"') return (c === '}' ? { offset: i, message: 'a comma before `}`: JSON allows none after the last property' } : error(i, 'a property name in double quotes'));
      const s = scanString(text, i);
      if ('message' in s) return s;
      i = s.end;
      expecting = ':';
    } else if (c === '{' || c === '[') {
      i++;
      closers.push(c === '{' ? '}' : ']');
      expecting = c === '{' ? 'key or }' : 'value or ]';
    } else if (c === '"') {
      const s = scanString(text, i);
      if ('message' in s) return s;
      i = s.end;
      expecting = 'after value';
    } else {
      const end = literalEnd(text, i);
      if (end === undefined) return c === ']' && closers.at(-1) === ']' ? { offset: i, message: 'a comma before `]`: JSON allows none after the last item' } : error(i, 'a value');
      i = end;
      expecting = 'after value';
    }
  }
}

/** What is at `at`, for a message: a short word or one character in backticks, or the end of the text. */
function foundAt(text: string, at: number): string {
  if (at >= text.length) return 'the end of the text';
  WORD.lastIndex = at;
  return `\`${WORD.exec(text)?.[0] ?? text[at]}\``;
}

/** The end of the number, true, false or null at `i`, if one is there and ends there (`truex` and `01` are not values). */
function literalEnd(text: string, i: number): number | undefined {
  LITERAL.lastIndex = i;
  if (!LITERAL.exec(text)) return undefined;
  return /[\w.+-]/.test(text[LITERAL.lastIndex] ?? '') ? undefined : LITERAL.lastIndex;
}

/** The end of the string that starts at `i` (at its `"`), or what is wrong in it. */
function scanString(text: string, i: number): { end: number } | JsonSyntaxError {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22 /* " */) return { end: j + 1 };
    if (c === 0x0a) return { offset: i, message: 'a string not closed on its line (a line break in a string is written \\n)' };
    if (c < 0x20) return { offset: j, message: 'a control character in a string: write it escaped (\\t, \\u0001)' };
    if (c === 0x5c /* \ */) {
      const e = text[j + 1] ?? '';
      const ok = e === 'u' ? /^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6)) : e !== '' && '"\\/bfnrt'.includes(e);
      if (!ok) return { offset: j, message: 'a bad escape in a string: JSON has \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX' };
      j += e === 'u' ? 5 : 1;
    }
  }
  return { offset: i, message: 'a string that is never closed' };
}

/** `line L, column C` of a character offset. */
function where(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** The offset where nesting first goes deeper than `max` (strings skipped), if it does. */
function depthExceededAt(text: string, max: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return i;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return undefined;
}
