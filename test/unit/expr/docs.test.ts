// docs/expressions.md cannot drift from the evaluator: every table row whose first two cells are code is an
// expression and its result (JSON), evaluated here against the doc's own context block.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluate, parseExpression, type EvalContext } from '../../../src/expr/index.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/expressions.md');
const text = fs.readFileSync(DOC, 'utf8');

/** The JSON block under `<!-- context -->`. */
function contextOf(markdown: string): Record<string, unknown> {
  const m = /<!-- context -->\s*\n```json\n([\s\S]*?)\n```/.exec(markdown);
  if (!m) throw new Error('docs/expressions.md has no <!-- context --> json block');
  return JSON.parse(m[1]!) as Record<string, unknown>;
}

/** `| \`expr\` | \`result\` | why |` rows, with markdown's `\|` read as `|`. */
const rows = [...text.matchAll(/^\| `((?:[^`]|\\`)+)` \| `([^`]+)` \|/gm)].map((m) => ({ expr: m[1]!.replaceAll('\\|', '|'), result: m[2]! }));

// As `deploy`'s if: sees them: `lint`, one of its needs, failed.
const ctx: EvalContext = {
  contexts: contextOf(text),
  status: { success: () => false, failure: () => true, cancelled: () => false },
};

describe('docs/expressions.md', () => {
  it('has examples for every function, operator and literal kind', () => {
    const all = rows.map((r) => r.expr).join('\n');
    for (const fn of ['contains', 'startsWith', 'endsWith', 'format', 'join', 'toJSON', 'fromJSON', 'case', 'success', 'failure', 'always', 'cancelled']) {
      expect(all, fn).toContain(`${fn}(`);
    }
    for (const op of ['==', '!=', '<', '>=', '&&', '||', '!', '.*', '[', '(']) expect(all, op).toContain(op);
    expect(rows.length).toBeGreaterThan(50);
  });

  it.each(rows)('`$expr` is $result', ({ expr, result }) => {
    expect(evaluate(parseExpression(expr), ctx)).toEqual(JSON.parse(result));
  });
});
