import type { StepError } from '../errors.js';
import { ExpressionError, evaluate, hasTemplate, parseTemplateOnce, renderTemplate, toDisplayString, type EvalContext } from '../expr/index.js';
import type { StepSpec } from '../specfile/model.js';
import type { RenderedShell } from './cache-key.js';

/**
 * A `run:` script with every `${{ expr }}` replaced by `${ORCH_EXPR_n}`, and the values in `env`:
 * values never become script text, so a hostile value cannot run a command (SPEC §2).
 */
export function renderScript(run: string, context: EvalContext): { script: string; env: Record<string, string> } {
  if (!hasTemplate(run)) return { script: run, env: {} };
  const env: Record<string, string> = {};
  let script = '';
  let n = 0;
  for (const part of parseTemplateOnce(run)) {
    if (part.kind === 'text') {
      script += part.text;
      continue;
    }
    const name = `ORCH_EXPR_${++n}`;
    env[name] = toDisplayString(evaluate(part.expr, context));
    if (process.platform === 'linux') checkVariableSize(name, env[name], part.source);
    script += `\${${name}}`;
  }
  return { script, env };
}

/** Linux's cap on one environment variable, `NAME=value` and its NUL (MAX_ARG_STRLEN: 32 pages of 4 KiB). */
export const LINUX_MAX_VARIABLE_BYTES = 128 * 1024;

/**
 * A value the step's process could not be started with, said before it is tried: exec fails with E2BIG, which
 * names nothing. The gathered `results` of a large fan-out get there soonest.
 */
function checkVariableSize(name: string, value: string, source: string): void {
  const bytes = Buffer.byteLength(value) + name.length + 2;
  if (bytes <= LINUX_MAX_VARIABLE_BYTES) return;
  const kib = (b: number) => `${Math.ceil(b / 1024)} KiB`;
  const what = source.startsWith('env.') ? source : `\${{ ${source.trim()} }}`;
  throw new ExpressionError(
    'evaluation',
    `the value of ${what} is ${kib(bytes)}: ${source.startsWith('env.') ? 'it reaches' : 'each expression reaches'} the step's process as one environment variable (${name}), which Linux caps at ${kib(LINUX_MAX_VARIABLE_BYTES)}; ` +
      `read big values from the run folder instead (a step's results are in $ORCH_RUN_DIR/outputs/<step>.json), or pass less (a join of one field, say)`,
    0,
  );
}

/** Any other string field: expressions rendered into the text. */
export function renderField(value: string, context: EvalContext): string {
  return hasTemplate(value) ? renderTemplate(parseTemplateOnce(value), context) : value;
}

/** A run step rendered for one attempt (its script, env and cwd), or the expression error that stopped it. */
export function renderShell(step: StepSpec, context: EvalContext): RenderedShell | { error: StepError } {
  if (step.shellCache?.error) return { error: { code: 'expression', message: step.shellCache.error } };
  try {
    const { script, env: exprEnv } = renderScript(step.run!, context);
    const stepEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.env)) {
      stepEnv[k] = renderField(v, context);
      // An `env:` value made big by its expressions fails as the script's would, naming the variable.
      if (process.platform === 'linux' && v !== stepEnv[k]) checkVariableSize(k, stepEnv[k], `env.${k} (${v.trim()})`);
    }
    return { step, script, exprEnv, stepEnv, cwd: renderField(step.cwd, context), context };
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    return { error: { code: 'expression', message: e.message } };
  }
}
