import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluate, ExpressionError, parseExpression } from '../../../src/expr/index.js';

/** GitHub's conformance data, vendored with its licence: test/fixtures/github-actions-expressions/ (its README names the source). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dataDir = path.join(repoRoot, 'test/fixtures/github-actions-expressions');

interface Case {
  expr: string;
  contexts?: Record<string, unknown>;
  result?: { kind: string; value: unknown };
  err?: { kind: 'parsing' | 'lexing' | 'evaluation'; value: string };
}

const files = readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort();

function kindName(value: unknown): string {
  if (value === null) return 'Null';
  if (Array.isArray(value)) return 'Array';
  switch (typeof value) {
    case 'boolean':
      return 'Boolean';
    case 'number':
      return 'Number';
    case 'string':
      return 'String';
    default:
      return 'Object';
  }
}

/** Deep equality where numbers compare with Object.is (NaN equals NaN, -0 differs from 0). */
function sameValue(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number') return Object.is(actual, expected);
  if (expected === null || typeof expected !== 'object') return actual === expected;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => sameValue(actual[i], v));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const keys = Object.keys(e);
  return Object.keys(a).length === keys.length && keys.every((k) => Object.hasOwn(a, k) && sameValue(a[k], e[k]));
}

type Outcome = { ok: true; value: unknown } | { ok: false; kind: string; message: string; pos: number };

function run(c: Case): Outcome {
  try {
    const contexts = c.contexts ?? {};
    const expr = parseExpression(c.expr, { contexts: Object.keys(contexts) });
    return { ok: true, value: evaluate(expr, { contexts }) };
  } catch (e) {
    if (e instanceof ExpressionError) return { ok: false, kind: e.kind, message: e.message, pos: e.pos };
    throw e;
  }
}

it('finds the conformance data', () => {
  expect(files.length).toBeGreaterThanOrEqual(25);
});

for (const file of files) {
  const groups = JSON.parse(readFileSync(path.join(dataDir, file), 'utf8')) as Record<string, Case[]>;
  describe(file, () => {
    const total = Object.values(groups).reduce((n, cases) => n + cases.length, 0);
    // coerce_boolean.json only points at another file; keep the suite non-empty and say so.
    if (total === 0) it('holds no cases of its own', () => expect(Object.keys(groups).length).toBeGreaterThan(0));
    for (const [group, cases] of Object.entries(groups)) {
      cases.forEach((c, i) => {
        it(`${group} #${i}: ${JSON.stringify(c.expr).slice(0, 120)}`, () => {
          const outcome = run(c);
          const where = `expr ${JSON.stringify(c.expr)} (${file} › ${group} #${i})`;
          if (c.err) {
            // A lexing error is found while parsing: both are reported before anything runs.
            const kind = c.err.kind === 'evaluation' ? 'evaluation' : 'parsing';
            expect(outcome, `${where} should fail with a ${kind} error`).toMatchObject({ ok: false, kind });
            // GitHub's full messages say where (1-based); ours carry the same place as a 0-based pos.
            const at = /Located at position (\d+) within expression/.exec(c.err.value);
            if (at && !outcome.ok) expect(outcome.pos + 1, `${where}: error position`).toBe(Number(at[1]));
            return;
          }
          const expected = c.result;
          if (!expected) throw new Error(`${where}: case has neither result nor err`);
          if (!outcome.ok) throw new Error(`${where} failed: ${outcome.kind} error: ${outcome.message}`);
          expect(kindName(outcome.value), `${where}: kind`).toBe(expected.kind);
          if (!sameValue(outcome.value, expected.value)) {
            expect.fail(`${where}: got ${String(JSON.stringify(outcome.value))} (${String(outcome.value)}), want ${JSON.stringify(expected.value)}`);
          }
        });
      });
    }
  });
}
