// jsonSyntaxError places the first JSON syntax error, which JSON.parse on Node 20 mostly does not; parseUntrustedJson
// gives that place (never the text) for a step's stdout under `output: json`.
import { describe, expect, it } from 'vitest';
import { jsonSyntaxError, parseUntrustedJson } from '../../../src/util/json.js';

describe('jsonSyntaxError', () => {
  it('finds nothing wrong in JSON that JSON.parse takes', () => {
    for (const text of ['{}', '[]', ' 0 ', '-1.5e+3', '"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"', 'true', 'null', '{"a": [1, {"b": false}, "x"], "c": {}}\n', '[[[[]]]]']) {
      expect(() => JSON.parse(text), text).not.toThrow();
      expect(jsonSyntaxError(text), text).toBeUndefined();
    }
  });

  it('places each error where it is and says it in one line', () => {
    const cases: [string, number, string][] = [
      ['{"run": tru}', 8, 'expected a value, found `tru`'],
      ['{"a": 1,}', 8, 'a comma before `}`: JSON allows none after the last property'],
      ['[1, 2,]', 6, 'a comma before `]`: JSON allows none after the last item'],
      ['{"a" 1}', 5, 'expected `:` after the property name, found `1`'],
      ['{a: 1}', 1, 'expected a property name in double quotes, found `a`'],
      ['{"a": 1 "b": 2}', 8, 'expected `,` or `}`, found `"`'],
      ['[1 2]', 3, 'expected `,` or `]`, found `2`'],
      ['{"a": 01}', 6, 'expected a value, found `01`'],
      ['{"a": 1} x', 9, 'expected the end of the text after the value, found `x`'],
      ['{"a": [1, 2', 11, 'expected `,` or `]`, found the end of the text'],
      ['{"a": "b\nc"}', 6, 'a string not closed on its line (a line break in a string is written \\n)'],
      ['{"a": "b\\x"}', 8, 'a bad escape in a string: JSON has \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX'],
      ['{"a": "b', 6, 'a string that is never closed'],
      ["{'a': 1}", 1, "expected a property name in double quotes, found `'a'`"],
    ];
    for (const [text, offset, message] of cases) {
      expect(() => JSON.parse(text), text).toThrow();
      expect(jsonSyntaxError(text), text).toEqual({ offset, message });
    }
  });

  it('takes a deep nesting and a long string without overflowing', () => {
    expect(jsonSyntaxError(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined();
    expect(jsonSyntaxError(`"${'x'.repeat(8_000_000)}`)).toEqual({ offset: 0, message: 'a string that is never closed' });
  });
});

describe('parseUntrustedJson', () => {
  it('gives the line and column of an error JSON.parse does not place, and never the text', () => {
    expect(parseUntrustedJson('{"k": sk-live-0123}')).toEqual({ error: 'not JSON (at line 1, column 7)' });
    expect(parseUntrustedJson('{\n  "a": 1,\n  "b": tru\n}')).toEqual({ error: 'not JSON (at line 3, column 8)' });
  });
});
