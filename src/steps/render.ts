import type { StepError } from '../errors.js';
import { ExpressionError, evaluate, hasTemplate, parseTemplate, renderTemplate, toDisplayString, type EvalContext, type TemplatePart } from '../expr/index.js';
import { escapePath } from 'tinyglobby';
import type { ShellCacheSpec, StepSpec } from '../specfile/model.js';
import type { RenderedShell } from './cache-key.js';

/**
 * Parsed templates by their text: the instances of a fanned step share their fields' text, parsed once for all of
 * them. The texts are the spec's (a bad one throws each time, and is not kept), so the map stays small.
 */
const parsed = new Map<string, TemplatePart[]>();

function parseOnce(field: string): TemplatePart[] {
  let parts = parsed.get(field);
  if (!parts) parsed.set(field, (parts = parseTemplate(field)));
  return parts;
}

/**
 * A `run:` script with every `${{ expr }}` replaced by `${ORCH_EXPR_n}`, and the values in `env`:
 * values never become script text, so a hostile value cannot run a command (SPEC §2).
 */
export function renderScript(run: string, context: EvalContext): { script: string; env: Record<string, string> } {
  if (!hasTemplate(run)) return { script: run, env: {} };
  const env: Record<string, string> = {};
  let script = '';
  let n = 0;
  for (const part of parseOnce(run)) {
    if (part.kind === 'text') {
      script += part.text;
      continue;
    }
    const name = `ORCH_EXPR_${++n}`;
    env[name] = toDisplayString(evaluate(part.expr, context));
    script += `\${${name}}`;
  }
  return { script, env };
}

/** Any other string field: expressions rendered into the text. */
export function renderField(value: string, context: EvalContext): string {
  return hasTemplate(value) ? renderTemplate(parseOnce(value), context) : value;
}

/**
 * The cache globs of a fanned step's instance with their `${{ }}` rendered from its values (SPEC §11). A value goes in
 * as a literal path, its glob characters escaped: an item `a[1].txt` names that file, never `a1.txt`. A value that
 * renders empty, or an expression that fails, makes globs that cannot be used: `error` says which and why.
 */
export function renderCacheGlobs(cache: ShellCacheSpec, context: EvalContext): ShellCacheSpec {
  const rendered: Pick<ShellCacheSpec, 'inputs' | 'outputs'> = { inputs: [], outputs: [] };
  for (const field of ['inputs', 'outputs'] as const) {
    for (const [i, glob] of cache[field].entries()) {
      if (!hasTemplate(glob)) {
        rendered[field].push(glob);
        continue;
      }
      let out = '';
      try {
        for (const part of parseOnce(glob)) {
          if (part.kind === 'text') {
            out += part.text;
            continue;
          }
          const value = toDisplayString(evaluate(part.expr, context));
          if (value === '') throw new ExpressionError('evaluation', `\${{ ${part.source.trim()} }} is empty for this instance`, part.offset);
          out += escapePath(value);
        }
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        return { ...cache, inputs: [], outputs: [], error: `cache.${field}[${i}] "${glob}": ${e.message}` };
      }
      rendered[field].push(out);
    }
  }
  return { ...cache, ...rendered };
}

/** A run step rendered for one attempt (its script, env and cwd), or the expression error that stopped it. */
export function renderShell(step: StepSpec, context: EvalContext): RenderedShell | { error: StepError } {
  if (step.shellCache?.error) return { error: { code: 'expression', message: step.shellCache.error } };
  try {
    const { script, env: exprEnv } = renderScript(step.run!, context);
    const stepEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.env)) stepEnv[k] = renderField(v, context);
    return { step, script, exprEnv, stepEnv, cwd: renderField(step.cwd, context), context };
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    return { error: { code: 'expression', message: e.message } };
  }
}
