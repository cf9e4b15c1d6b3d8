import { collectReferences, fieldExpressionsEach } from '../expr/index.js';
import { didYouMean } from '../util/suggest.js';
import { fanShapes, type FanShape } from './fanout-checks.js';
import type { LoadedDocument } from './load.js';
import type { RawSpec } from './schema.js';

type Report = (at: { line: number; col: number }, message: string, code?: 'spec-expression') => void;

/** Contexts an expression may read (SPEC §2). */
const CONTEXTS = new Set(['vars', 'env', 'job', 'steps', 'matrix', 'item', 'item_index']);
const STEP_FIELDS = new Set(['status', 'outputs', 'text', 'exit_code', 'results']);
/** What a fanned step's dependents cannot read as if it were one step. */
const SINGLE_STEP_FIELDS = new Set(['outputs', 'text', 'exit_code']);
const JOB_FIELDS = new Set(['id', 'name', 'run_dir']);
const STATUS_FUNCTIONS = new Set(['success', 'failure', 'always', 'cancelled']);

/** What a fanned step's cache globs can read: they are rendered as each instance is made (SPEC §11). */
const CACHE_GLOB_CONTEXTS: ReadonlySet<string> = new Set(['matrix', 'item', 'vars']);

/** Step fields whose strings may hold `${{ }}`. */
const STEP_STRING_FIELDS = ['run', 'prompt', 'system', 'cwd', 'model', 'for_each'] as const;

/**
 * Every expression in the spec parses, reads known contexts, declared vars and, where a step's outputs_schema closes
 * its outputs, declared outputs, and reads only steps it transitively needs.
 */
export function checkExpressions(spec: RawSpec, doc: LoadedDocument, report: Report): void {
  const ancestors = new Ancestors(spec);
  const known: KnownNames = { vars: declaredVars(doc.data), outputs: (id) => (Object.hasOwn(spec.steps, id) ? closedOutputs(spec.steps[id]!.outputs_schema) : undefined) };
  const fans = fanShapes(doc.data);
  const check = (fieldPath: PropertyKey[], source: string, opts: { bare: boolean; reader?: string; only?: ReadonlySet<string> }) => {
    const field = fieldPath.length === 3 ? String(fieldPath[2]) : '';
    const { exprs, errors } = fieldExpressionsEach(source, opts);
    for (const e of errors) report(doc.locator.inString(fieldPath, e.pos), `${fieldPath.join('.')}: ${e.message}`, 'spec-expression');
    for (const { expr, offset } of exprs) {
      const refs = collectReferences(expr);
      const at = (pos: number) => doc.locator.inString(fieldPath, offset + pos);
      for (const fn of refs.functions) {
        if (STATUS_FUNCTIONS.has(fn.name) && !opts.bare) {
          report(at(fn.pos), `${fieldPath.join('.')}: ${fn.name}() may only be used in \`if:\``, 'spec-expression');
        }
      }
      for (const ref of refs.contexts) {
        const context = ref.context.toLowerCase();
        const problem =
          (opts.only && CONTEXTS.has(context) && !opts.only.has(context)
            ? `a cache glob is rendered when its instance is made, before anything runs: it can read ${[...opts.only].join(', ')}, not ${context}`
            : undefined) ??
          checkReference(context, ref.path, opts.reader, ancestors) ??
          checkFanReference({ context, path: ref.path, reader: opts.reader, field, fans }) ??
          checkDeclared(context, ref.path, known);
        if (problem) report(at(ref.pos), `${fieldPath.join('.')}: ${problem}`, 'spec-expression');
      }
    }
  };

  for (const [name, value] of Object.entries(spec.env ?? {})) {
    if (typeof value === 'string') check(['env', name], value, { bare: false });
  }
  // Defaults are rendered for each step that inherits them, so they may not read steps.* either.
  for (const field of ['cwd', 'model'] as const) {
    const v = spec.defaults?.[field];
    if (typeof v === 'string') check(['defaults', field], v, { bare: false });
  }
  for (const [id, step] of Object.entries(spec.steps)) {
    for (const field of STEP_STRING_FIELDS) {
      const v = step[field];
      if (typeof v === 'string') check(['steps', id, field], v, { bare: false, reader: id });
    }
    const shell = step.shell ?? spec.defaults?.shell;
    if (typeof step.run === 'string' && typeof shell === 'string' && !isPosixShell(shell) && step.run.includes('${{')) {
      report(
        doc.locator.inString(['steps', id, 'run'], step.run.indexOf('${{')),
        `steps.${id}.run: expressions in run reach the script as \${ORCH_EXPR_n} environment variables, which only a POSIX shell expands, and the shell is ${shell}: ` +
          'set a variable in the step\'s env: (`env: {NAME: ${{ … }}}`) and read it from the environment (os.environ in Python, process.env in Node), or use a POSIX shell',
      );
    }
    for (const [name, value] of Object.entries(step.env ?? {})) {
      if (typeof value === 'string') check(['steps', id, 'env', name], value, { bare: false, reader: id });
    }
    if (typeof step.if === 'string') check(['steps', id, 'if'], step.if, { bare: true, reader: id });
    // A fanned step's cache globs may name each instance's own files (validate.ts refuses them elsewhere).
    const cache = step.cache;
    if ((step.matrix !== undefined || step.for_each !== undefined) && cache !== null && typeof cache === 'object') {
      for (const field of ['inputs', 'outputs'] as const) {
        (cache[field] ?? []).forEach((glob, i) => check(['steps', id, 'cache', field, i], glob, { bare: false, reader: id, only: CACHE_GLOB_CONTEXTS }));
      }
    }
  }
}

/**
 * Shells that expand `${ORCH_EXPR_1}` in the script they are given with -c, as `run:`'s expressions need: bash, sh
 * and the POSIX family, by file name (`/usr/local/bin/bash`, `zsh-5.9`). Another program (`python3`, `node`,
 * `pwsh`) would see the reference as text.
 */
const POSIX_SHELL = /^(?:ba|rba|da|z|k|mk|pdk|lk|ok|a|ya|po|hu)?sh(?:[-.]?\d[\d.]*)?$|^ksh93$|^busybox$/;

function isPosixShell(shell: string): boolean {
  if (shell.includes('${{')) return true; // refused as it is (literal-fields.ts): said once, there
  return POSIX_SHELL.test(shell.slice(shell.lastIndexOf('/') + 1));
}

function checkReference(context: string, path: string[], reader: string | undefined, ancestors: Ancestors): string | undefined {
  if (!CONTEXTS.has(context)) return `unknown context "${context}" (expressions can read vars, env, job and steps)`;
  if (context === 'job' && path[0] !== undefined && !JOB_FIELDS.has(path[0].toLowerCase())) return `job has no field "${path[0]}" (it has id, name, run_dir)`;
  if (context !== 'steps') return undefined;
  if (reader === undefined) return 'steps cannot be read here';
  const [named, field] = path;
  if (named === undefined || named === '*') return undefined;
  const target = ancestors.resolve(named);
  if (target === undefined) return `unknown step "${named}"`;
  if (!ancestors.needs(reader, target)) {
    return `step "${reader}" reads steps.${target} but does not need it (add "${target}" to its needs, directly or through another step)`;
  }
  if (field !== undefined && field !== '*' && !STEP_FIELDS.has(field.toLowerCase())) {
    return `steps.${target} has no field "${field}" (it has status, outputs, text, exit_code)`;
  }
  return undefined;
}

/**
 * `matrix.<key>` and `item` only where a step has them (and not in its `if:` or `for_each`, read before it
 * expands); a fanned step is read through `results`, never as one step, and `results` only of a fanned step.
 */
function checkFanReference(o: { context: string; path: string[]; reader: string | undefined; field: string; fans: Map<string, FanShape> }): string | undefined {
  const { context, path, reader, field } = o;
  const fan = reader === undefined ? undefined : o.fans.get(reader);
  if (context === 'matrix' || context === 'item' || context === 'item_index') {
    if (reader === undefined) return `${context} cannot be read here (only in the fields of a step with matrix or for_each)`;
    if (field === 'if' || field === 'for_each') return `${context} cannot be read in \`${field}:\`: it is evaluated once for the whole step, before the step expands into instances`;
    if (context === 'matrix') {
      if (fan?.matrixKeys === undefined) return `step "${reader}" has no matrix (add \`matrix:\` to the step, or remove this reference)`;
      const [key] = path;
      if (key === undefined || key === '*' || hasName(fan.matrixKeys, key)) return undefined;
      return `unknown matrix key "${key}"${didYouMean(key, fan.matrixKeys) || ` (the matrix has ${fan.matrixKeys.join(', ') || 'no keys'})`}`;
    }
    if (!fan?.hasForEach) {
      const what = context === 'item' ? 'item is the current element of its for_each array' : 'item_index is the position, from 0, of the current element in its for_each array';
      return `step "${reader}" has no for_each (${what})`;
    }
    return undefined;
  }
  if (context !== 'steps') return undefined;
  const [target, stepField] = path;
  if (target === undefined || target === '*' || stepField === undefined || stepField === '*') return undefined;
  const lower = stepField.toLowerCase();
  if (o.fans.has(target) && SINGLE_STEP_FIELDS.has(lower)) {
    const example = lower === 'outputs' ? `steps.${target}.results.*.outputs${path[2] !== undefined && path[2] !== '*' ? `.${path[2]}` : ''}` : `steps.${target}.results.*.${lower}`;
    return `steps.${target} runs as instances (matrix or for_each): it has no single ${lower}; read ${example} (one per instance, in instance order)`;
  }
  if (!o.fans.has(target) && lower === 'results') return `steps.${target}.results: only a step with matrix or for_each has results (read steps.${target}.outputs)`;
  return undefined;
}

/** Names a spec declares, for references that would otherwise silently read null: undefined when not checkable. */
interface KnownNames {
  vars: string[] | undefined;
  outputs: (step: string) => string[] | undefined;
}

/** The spec's var names as the document has them (undefined when `vars:` is not a mapping: reported elsewhere). */
function declaredVars(data: unknown): string[] | undefined {
  const vars = (data as Record<string, unknown> | null)?.vars;
  if (vars === undefined) return [];
  return vars !== null && typeof vars === 'object' && !Array.isArray(vars) ? Object.keys(vars) : undefined;
}

/** The only output names an outputs_schema allows (`properties` with `additionalProperties: false`), else undefined. */
function closedOutputs(schema: Record<string, unknown> | undefined): string[] | undefined {
  if (schema?.additionalProperties !== false || schema.patternProperties !== undefined) return undefined;
  const props = schema.properties;
  return props !== null && typeof props === 'object' && !Array.isArray(props) ? Object.keys(props) : [];
}

/** `vars.nope` and `steps.a.outputs.pased` (closed by a schema) name nothing: a typo, never an empty string. */
function checkDeclared(context: string, path: string[], known: KnownNames): string | undefined {
  if (context === 'vars' && known.vars !== undefined) {
    const [name] = path;
    if (name === undefined || name === '*' || hasName(known.vars, name)) return undefined;
    const hint = didYouMean(name, known.vars);
    if (hint) return `unknown var "${name}"${hint}`;
    if (known.vars.length === 0) return `unknown var "${name}": the spec declares no vars (declare it under \`vars:\`; --var can then override it)`;
    return `unknown var "${name}" (declared: ${known.vars.join(', ')})`;
  }
  if (context !== 'steps') return undefined;
  // `steps.a.outputs.x`, and a fanned step's `steps.a.results.*.outputs.x` (or `results[0]…`): each instance is held to the schema.
  const [step, field] = path;
  const fanned = field?.toLowerCase() === 'results' && path[3]?.toLowerCase() === 'outputs';
  const name = fanned ? path[4] : field?.toLowerCase() === 'outputs' ? path[2] : undefined;
  if (step === undefined || step === '*' || name === undefined || name === '*') return undefined;
  const allowed = known.outputs(step);
  if (allowed === undefined || hasName(allowed, name)) return undefined;
  const only = allowed.length === 0 ? 'allows no outputs' : `allows only ${allowed.join(', ')}`;
  const read = fanned ? `steps.${step}.results${path[2] === '*' ? '.*' : `[${path[2]}]`}.outputs` : `steps.${step}.outputs`;
  return `${read} has no "${name}": its outputs_schema ${only} (additionalProperties: false)${didYouMean(name, allowed)}`;
}

/** Property names are case-insensitive, as the evaluator reads them. */
function hasName(names: string[], name: string): boolean {
  const folded = name.toLowerCase();
  return names.some((n) => n.toLowerCase() === folded);
}

/**
 * Which steps each step transitively needs, asked one pair at a time. No set of ancestors is kept per reader: in a
 * chain whose every step reads the one before, those sets hold n²/2 names (an 8,000-step chain took 11 s and 1 GB
 * to validate). A direct need answers at once; anything else is a search over needs that stops at the target.
 */
class Ancestors {
  readonly #spec: RawSpec;
  constructor(spec: RawSpec) {
    this.#spec = spec;
  }
  has(id: string): boolean {
    return Object.hasOwn(this.#spec.steps, id);
  }
  /** The step `name` reads, as expressions resolve it: its exact id, else the one id that differs only in case. */
  resolve(name: string): string | undefined {
    if (this.has(name)) return name;
    const folded = name.toLowerCase();
    return Object.keys(this.#spec.steps).find((id) => id.toLowerCase() === folded);
  }
  /** Breadth-first over needs from `reader`, stopping at `target`: O(steps + edges) at worst, cycle-safe. */
  needs(reader: string, target: string): boolean {
    const direct = this.#spec.steps[reader]?.needs ?? [];
    if (direct.includes(target)) return true;
    const seen = new Set<string>(direct);
    const queue = [...direct];
    for (let i = 0; i < queue.length; i++) {
      for (const need of this.#spec.steps[queue[i]!]?.needs ?? []) {
        if (need === target) return true;
        if (!seen.has(need) && this.has(need)) {
          seen.add(need);
          queue.push(need);
        }
      }
    }
    return false;
  }
}
