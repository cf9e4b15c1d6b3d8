import { evaluate, hasTemplate, parseTemplate, renderTemplate, toDisplayString, type EvalContext } from '../expr/index.js';

/**
 * A `run:` script with every `${{ expr }}` replaced by `${ORCH_EXPR_n}`, and the values in `env`:
 * values never become script text, so a hostile value cannot run a command (SPEC §2).
 */
export function renderScript(run: string, context: EvalContext): { script: string; env: Record<string, string> } {
  if (!hasTemplate(run)) return { script: run, env: {} };
  const env: Record<string, string> = {};
  let script = '';
  let n = 0;
  for (const part of parseTemplate(run)) {
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
  return hasTemplate(value) ? renderTemplate(parseTemplate(value), context) : value;
}
