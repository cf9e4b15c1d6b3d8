import os from 'node:os';
import path from 'node:path';
import type { $ZodIssue } from 'zod/v4/core';
import { OrchestratorError, type Diagnostic } from '../errors.js';
import { findCycles } from '../graph/cycles.js';
import { didYouMean } from '../util/suggest.js';
import { outputOutsideSpecFolder } from './cache-globs.js';
import { checkExpressions } from './expressions.js';
import { checkFanout, expandsMatrix } from './fanout-checks.js';
import { checkProviderRefs } from './provider-checks.js';
import { checkLiteralFields } from './literal-fields.js';
import { expandMatrix, type RawMatrix } from './matrix.js';
import { DEFAULT_MAX_INSTANCES } from '../graph/instances.js';
import { loadDocument, parseDocumentText, STDIN_NAME, type LoadedDocument, type Origin } from './load.js';
import { explainFlowValue } from './yaml-hints.js';
import type { JobSpec, RetryPolicy, StepSpec } from './model.js';
import { knownKeysAt, STEP_ID, specSchema, type RawRetry, type RawSpec, type RawStep } from './schema.js';
import { isMapping } from '../util/is-mapping.js';

/** Read and check a spec file; throws an OrchestratorError listing every problem. */
export function parseSpec(file: string): JobSpec {
  return checkSpec(loadDocument(file, flowValueTraps));
}

/** Parse and check spec text read elsewhere (stdin, a run folder's copy); throws an OrchestratorError listing every problem. */
export function checkSpecText(text: string, where: Origin): JobSpec {
  return checkSpec(parseDocumentText(text, where, flowValueTraps));
}

/**
 * In a spec with YAML syntax errors, the values of text fields written as a flow mapping or sequence (`run: {echo}`):
 * YAML traps too, said as when the spec has no other problem. The rest of the check waits for the syntax to be fixed.
 */
function flowValueTraps(doc: LoadedDocument): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const report: Report = (at, message, code = 'spec-invalid') => problems.push({ code, message, file: doc.displayPath, ...at });
  const parsed = specSchema.safeParse(withoutExtensions(doc.data));
  for (const issue of parsed.error?.issues ?? []) {
    if (issue.code !== 'invalid_type' || issue.expected !== 'string' || typeof valueAt(doc.data, issue.path).value !== 'object') continue;
    if (flowHint(doc, issue.path, doc.locator.value(issue.path)) !== '') reportIssue(doc, issue, report);
  }
  return problems;
}

/** Check a loaded document against SPEC §1–§2 and §7 and build the runnable spec. */
export function checkSpec(doc: LoadedDocument): JobSpec {
  const problems: Diagnostic[] = [];
  const report = (at: { line: number; col: number }, message: string, code: Diagnostic['code'] = 'spec-invalid') =>
    problems.push({ code, message, file: doc.displayPath, ...at });

  const data = withoutExtensions(doc.data);
  const parsed = specSchema.safeParse(data);
  if (!parsed.success) for (const issue of parsed.error.issues) reportIssue(doc, issue, report);

  checkGraph(doc, report);
  checkVarNames(doc, report);
  checkEnvNames(doc, report);
  checkFanout(doc, report);
  checkLiteralFields(doc, report);
  // Expressions are checked even when other fields are wrong, so that one run lists every problem.
  checkExpressions(parsed.success ? parsed.data : lenientView(data), doc, report);

  if (problems.length > 0 || !parsed.success) {
    // Else said by resolveProviders, with the provider problems that depend on the environment.
    checkProviderRefs(doc, report);
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new OrchestratorError(problems);
  }
  return buildJobSpec(doc, parsed.data);
}

type Report = (at: { line: number; col: number }, message: string, code?: Diagnostic['code']) => void;

/** Extension keys: `x-` at the top level and in a step are the user's own (a home for YAML anchors, as in docker-compose). */
export const EXTENSION_KEY = /^x-/;

/** The document without its extension keys (a step whose id starts with `x-` is still a step). */
function withoutExtensions(data: unknown): unknown {
  if (!isMapping(data)) return data;
  // Most specs have no extension key at all: a mapping without one is kept as it is (never changed in place).
  const strip = (o: Record<string, unknown>) => (Object.keys(o).some((k) => EXTENSION_KEY.test(k)) ? Object.fromEntries(Object.entries(o).filter(([k]) => !EXTENSION_KEY.test(k))) : o);
  const top = strip(data);
  if (!isMapping(top.steps)) return top;
  let changed = false;
  const steps: Record<string, unknown> = {};
  for (const [id, step] of Object.entries(top.steps)) {
    steps[id] = isMapping(step) ? strip(step) : step;
    changed ||= steps[id] !== step;
  }
  return changed ? { ...top, steps } : top;
}

/** What expression checks read, taken from a document that failed the schema: only values of the right type. */
function lenientView(data: unknown): RawSpec {
  const d = isMapping(data) ? data : {};
  const strings = (o: unknown) => (isMapping(o) ? Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string')) : undefined);
  const steps: Record<string, Record<string, unknown>> = {};
  for (const [id, s] of Object.entries(isMapping(d.steps) ? d.steps : {})) {
    if (!isMapping(s)) continue;
    const view: Record<string, unknown> = { env: strings(s.env) };
    for (const f of ['run', 'prompt', 'system', 'cwd', 'model', 'if', 'for_each']) if (typeof s[f] === 'string') view[f] = s[f];
    if (Array.isArray(s.needs)) view.needs = s.needs.filter((n): n is string => typeof n === 'string');
    if (isMapping(s.outputs_schema)) view.outputs_schema = s.outputs_schema;
    if (s.matrix !== undefined) view.matrix = s.matrix;
    steps[id] = view;
  }
  return { env: strings(d.env), defaults: strings(d.defaults), steps } as unknown as RawSpec;
}

function dotted(p: readonly PropertyKey[]): string {
  return p.map(String).join('.');
}

function reportIssue(doc: LoadedDocument, issue: $ZodIssue, report: Report): void {
  const where = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const allowed = knownKeysAt(where);
    for (const key of issue.keys) {
      const prefix = where.length > 0 ? `${dotted(where)}: ` : '';
      report(doc.locator.key([...where, key]), `${prefix}unknown key "${key}"${didYouMean(key, allowed)}`);
    }
    return;
  }
  const at = doc.locator.value(where);
  const field = where.length > 0 ? `${dotted(where)}: ` : '';
  if (issue.code === 'invalid_union') {
    // When the value has the shape of exactly one branch (e.g. a retry mapping with a typo), that branch's
    // issues say what is wrong; otherwise describe the choices.
    const fitting = issue.errors.filter((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (fitting.length === 1) {
      for (const inner of fitting[0]!) reportIssue(doc, { ...inner, path: [...where, ...inner.path] } as $ZodIssue, report);
      return;
    }
    // A matrix's include or exclude entry that is no mapping: checkFanout says what an entry is, once.
    if (isMatrixEntry(where) && expandsMatrix(valueAt(doc.data, where.slice(0, 3)).value)) return;
    report(at, `${field}${unionHint(where, doc.data)}`);
    return;
  }
  if (issue.code === 'invalid_type') {
    // zod leaves issue.input out unless asked: read the value from the document itself.
    const found = valueAt(doc.data, where);
    if (!found.present) {
      // A missing `steps:` is reported once, by checkGraph.
      if (!(where.length === 1 && where[0] === 'steps')) report(at, `${field}is required`);
      return;
    }
    const written = issue.expected === 'string' && typeof found.value === 'object' ? flowHint(doc, where, at) : '';
    report(at, `${field}expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${describeValue(found.value)}${written}`);
    return;
  }
  if (issue.code === 'invalid_value') {
    const found = valueAt(doc.data, where);
    const got = found.present ? `, got ${describeValue(found.value)}` : '';
    report(at, `${field}${lowerFirst(issue.message.replace(/^Invalid (input|option): /, ''))}${got}`);
    return;
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const found = valueAt(doc.data, where);
    report(at, `${field}${boundMessage(issue)}${found.present && typeof found.value === 'number' ? `, got ${found.value}` : ''}`);
    return;
  }
  report(at, `${field}${lowerFirst(issue.message)}`);
}

function boundMessage(issue: $ZodIssue & { code: 'too_small' | 'too_big' }): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum);
  const inclusive = issue.inclusive !== false;
  if (issue.origin === 'string' && small && bound === 1) return 'must not be empty';
  if (issue.origin === 'array' || issue.origin === 'string') return `${small ? 'needs at least' : 'may have at most'} ${bound} ${issue.origin === 'array' ? 'items' : 'characters'}`;
  return `must be ${small ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<'} ${bound}`;
}

/** The value at a path of the parsed document, and whether it is there at all. */
function valueAt(data: unknown, where: readonly PropertyKey[]): { present: boolean; value?: unknown } {
  let node: unknown = data;
  for (const key of where) {
    if (node === null || typeof node !== 'object') return { present: false };
    const k = Array.isArray(node) ? Number(key) : String(key);
    if (!Object.hasOwn(node, k)) return { present: false };
    node = (node as Record<string | number, unknown>)[k];
  }
  return { present: true, value: node };
}

/** `: "{" at the start of a value opens …` when a string field was written as a flow mapping or sequence. */
function flowHint(doc: LoadedDocument, where: readonly PropertyKey[], at: { line: number; col: number }): string {
  const key = where[where.length - 1];
  if (doc.format !== 'yaml' || typeof key !== 'string') return '';
  const line = doc.text.split('\n', at.line)[at.line - 1] ?? '';
  const hint = explainFlowValue(key, line.slice(at.col - 1));
  return hint === undefined ? '' : `; ${hint}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
};

/** `a string ("soon")`, `a list`, `null`: what the user wrote, in words. */
function describeValue(v: unknown): string {
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const shown = JSON.stringify(v);
  const preview = shown.length > 40 ? `${shown.slice(0, 37)}...` : shown;
  return `${typeof v === 'boolean' ? 'a boolean' : typeof v === 'number' ? 'a number' : 'a string'} (${preview})`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function unionHint(where: readonly PropertyKey[], data: unknown): string {
  const last = String(where[where.length - 1]);
  if (last === 'timeout' && (where[0] === 'defaults' || where[0] === 'steps')) return 'expected a duration: 500ms, 30s, 5m, 1h, a number of seconds, or none';
  if (['timeout', 'idle_timeout', 'delay', 'max_delay'].includes(last)) return 'expected a duration: 500ms, 30s, 5m, 1h or a number of seconds';
  if (last === 'retry') return 'expected a number of attempts or {attempts, delay, backoff, max_delay}';
  if (last === 'if') return 'expected an expression (string) or a boolean';
  if (isMatrixEntry(where)) return 'expected a mapping of matrix keys to values';
  if (where[0] === 'steps' && where[2] === 'matrix' && where.length === 5) return `expected a string, a number, a boolean or a mapping, got ${describeValue(valueAt(data, where).value)}`;
  return 'expected a string, a number or a boolean';
}

/** `steps.<id>.matrix.include.<i>` or `.exclude.<i>`. */
function isMatrixEntry(where: readonly PropertyKey[]): boolean {
  return where.length === 5 && where[0] === 'steps' && where[2] === 'matrix' && (where[3] === 'include' || where[3] === 'exclude');
}

/**
 * The cache globs of a step or of `defaults:`. An `outputs` glob must name files inside the spec's folder, the only
 * place a hit restores them. Those of a step without matrix or for_each (or of `defaults:`) are read as they are
 * written: an expression there (`src/${{ vars.dir }}`) would match no file, so a key would miss what the step reads
 * (a hit after its file changed) and a hit would restore nothing. Refused, with a glob that covers its files.
 * A fanned step's globs are rendered for each instance (checked in expressions.ts, and as each instance is made).
 */
function checkCacheGlobs(doc: LoadedDocument, where: (string | number)[], cache: unknown, report: Report, o: { fanned: boolean }): void {
  if (cache === null || typeof cache !== 'object' || Array.isArray(cache)) return;
  for (const field of ['inputs', 'outputs'] as const) {
    const globs = (cache as Record<string, unknown>)[field];
    if (!Array.isArray(globs)) continue;
    globs.forEach((glob: unknown, i: number) => {
      if (typeof glob !== 'string') return;
      const name = `${[...where, field].join('.')}[${i}]`;
      const outside = field === 'outputs' ? outputOutsideSpecFolder(glob, path.dirname(doc.path)) : undefined;
      if (outside) report(doc.locator.value([...where, field, i]), `${name}: "${glob}" ${outside}`);
      if (o.fanned || !glob.includes('${{')) return;
      const wide = glob.replace(/\$\{\{[^}]*\}\}/g, '*');
      report(
        doc.locator.value([...where, field, i]),
        `${name}: only the cache globs of a step with matrix or for_each are rendered (once per instance); here "${glob}" is read as written and would match no file${field === 'inputs' ? ', so the key would miss what the step reads' : ', so a hit would restore nothing'}: write the glob out, e.g. "${wide}"`,
      );
    });
  }
}

/** Names expressions never resolve (SPEC §2): not usable as step ids. */
const RESERVED_IDS = new Set(['__proto__', 'constructor', 'prototype']);

/** Ids, needs, run/prompt and cycles, read from the raw data so that they are reported even when other fields are wrong. */
function checkGraph(doc: LoadedDocument, report: Report): void {
  const data = doc.data as Record<string, unknown>;
  const steps = data.steps;
  if (steps === null || typeof steps !== 'object' || Array.isArray(steps)) {
    if (steps === undefined) report(doc.locator.value([]), 'a spec needs a `steps:` mapping');
    return;
  }
  const ids = Object.keys(steps);
  if (ids.length === 0) report(doc.locator.value(['steps']), 'steps: a spec needs at least one step');
  const defaults = data.defaults;
  if (defaults !== null && typeof defaults === 'object' && !Array.isArray(defaults)) checkCacheGlobs(doc, ['defaults', 'cache'], (defaults as Record<string, unknown>).cache, report, { fanned: false });
  const known = new Set(ids);
  const edges = new Map<string, string[]>();
  // Expressions read names case-insensitively, and on macOS logs/a.log and logs/A.log are one file.
  const byFolded = new Map<string, string>();
  for (const id of ids) {
    const other = byFolded.get(id.toLowerCase());
    if (other !== undefined) report(doc.locator.key(['steps', id]), `step ids "${other}" and "${id}" differ only in case: expressions read steps.${id} and steps.${other} alike, and their files would be one on a case-insensitive disk (macOS); rename one`);
    else byFolded.set(id.toLowerCase(), id);
    if (id === 'null' && doc.locator.keyValue(['steps', id]) === null) {
      // `~:` (or `null:`, or no key at all) is YAML's null, which the data names "null": not an id the user wrote.
      report(doc.locator.key(['steps', id]), 'a step id is missing: this key is YAML\'s null (`~`, `null` or nothing before the `:`); write the id (quote it, "null", to name the step so)');
    } else if (!STEP_ID.test(id)) {
      report(doc.locator.key(['steps', id]), `step id "${id}" must match ${STEP_ID.source} (letters, digits, _ and -, starting with a letter or _)`);
    } else if (RESERVED_IDS.has(id)) {
      // Expressions never resolve these names (SPEC §2), so such a step could not be read; and __proto__ would vanish.
      report(doc.locator.key(['steps', id]), `step id "${id}" is reserved; choose another name`);
    }
    const step = (steps as Record<string, unknown>)[id];
    if (step === null || typeof step !== 'object' || Array.isArray(step)) continue;
    const s = step as Record<string, unknown>;
    const hasRun = s.run !== undefined, hasPrompt = s.prompt !== undefined;
    if (hasRun === hasPrompt) {
      report(doc.locator.key(['steps', id]), `step "${id}" needs exactly one of \`run\` or \`prompt\`${hasRun ? ' (it has both)' : ''}`);
    }
    // Prompt steps run on the coordinator (it holds the keys and the response cache): a tag there would not be honoured.
    if (hasPrompt && !hasRun && s.runs_on !== undefined) report(doc.locator.key(['steps', id, 'runs_on']), `step "${id}": runs_on applies to run: steps only (prompt steps run on the coordinator)`);
    if (hasPrompt && s.cache !== null && typeof s.cache === 'object') {
      report(doc.locator.key(['steps', id, 'cache']), `step "${id}": cache inputs, outputs and env are for run steps; a prompt step takes cache: true or false`);
    }
    checkCacheGlobs(doc, ['steps', id, 'cache'], s.cache, report, { fanned: s.matrix !== undefined || s.for_each !== undefined });
    const out: string[] = [];
    edges.set(id, out);
    if (!Array.isArray(s.needs)) continue;
    const seen = new Set<string>();
    s.needs.forEach((need: unknown, i: number) => {
      if (typeof need !== 'string') return;
      // Located only when reported: locating walks the document.
      const at = () => doc.locator.value(['steps', id, 'needs', i]);
      if (need === id) report(at(), `step "${id}" needs itself`, 'spec-cycle');
      else if (!known.has(need)) report(at(), `step "${id}" needs unknown step "${need}"${didYouMean(need, ids)}`);
      else if (seen.has(need)) report(at(), `step "${id}" lists "${need}" twice in needs`);
      else out.push(need);
      seen.add(need);
    });
  }
  for (const cycle of findCycles(ids, edges)) {
    const from = cycle[cycle.length - 2]!, to = cycle[cycle.length - 1]!;
    const index = (edges.get(from) ?? []).indexOf(to);
    const needs = ((steps as Record<string, Record<string, unknown>>)[from]!.needs as unknown[]).indexOf(to);
    report(doc.locator.value(['steps', from, 'needs', needs >= 0 ? needs : index]), `cycle: ${cycle.join(' -> ')}`, 'spec-cycle');
  }
}

/**
 * Var names that differ only in case: expressions read names case-insensitively (SPEC §2), and so does `run --var`,
 * so `vars.p` and `vars.P` could not be told apart; which one each read depended on how it was spelt.
 */
function checkVarNames(doc: LoadedDocument, report: Report): void {
  const vars = (doc.data as Record<string, unknown>).vars;
  if (!isMapping(vars)) return;
  const byFolded = new Map<string, string>();
  for (const name of Object.keys(vars)) {
    const other = byFolded.get(name.toLowerCase());
    if (other === undefined) byFolded.set(name.toLowerCase(), name);
    else report(doc.locator.key(['vars', name]), `vars "${other}" and "${name}" differ only in case: expressions (and run --var) read vars.${other} and vars.${name} alike; rename one`);
  }
}

/**
 * Keys of `env:` (the job's and each step's) that no environment variable can have: an empty one was dropped without
 * a word, `A=B: v` set A to `B=v` (the environment is `name=value` text), and a NUL stopped the step from starting.
 */
function checkEnvNames(doc: LoadedDocument, report: Report): void {
  const data = doc.data as Record<string, unknown>;
  const steps = isMapping(data.steps) ? Object.keys(data.steps).map((id) => ['steps', id, 'env']) : [];
  for (const where of [['env'], ...steps]) {
    const env = valueAt(data, where).value;
    if (!isMapping(env)) continue;
    for (const name of Object.keys(env)) {
      if (name !== '' && !name.includes('=') && !name.includes('\0')) continue;
      report(doc.locator.key([...where, name]), `${dotted(where)}: ${JSON.stringify(name)} cannot name an environment variable: a name must not be empty, nor hold "=" or a NUL character`);
    }
  }
}

const LLM_DEFAULT_RETRY: RetryPolicy = { attempts: 4, delayMs: 1000, backoff: 'exponential', maxDelayMs: 30_000 };

function retryPolicy(raw: RawRetry | undefined): RetryPolicy {
  if (raw === undefined) return { attempts: 1, delayMs: 0, backoff: 'fixed', maxDelayMs: Infinity };
  if (typeof raw === 'number') return { attempts: raw, delayMs: 1000, backoff: 'fixed', maxDelayMs: Infinity };
  return {
    attempts: raw.attempts,
    delayMs: raw.delay ?? 1000,
    backoff: raw.backoff ?? 'fixed',
    maxDelayMs: raw.max_delay ?? Infinity,
  };
}

function stringEnv(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) out[k] = String(v);
  return out;
}

/**
 * `cache:` as a step sees it: an object caches a run step (SPEC §11), and so does `true`, which asks for the cache
 * as `{}` does (no files, no env); `false` turns any cache off.
 */
function cacheFields(isShell: boolean, raw: RawStep['cache']): Pick<StepSpec, 'cache' | 'shellCache'> {
  if (raw === false) return { cache: false };
  if (raw === undefined || !isShell) return { cache: true };
  const declared = raw === true ? {} : raw;
  return { cache: true, shellCache: { inputs: declared.inputs ?? [], outputs: declared.outputs ?? [], env: declared.env ?? [] } };
}

function buildJobSpec(doc: LoadedDocument, raw: RawSpec): JobSpec {
  const dir = path.dirname(doc.path);
  const d = raw.defaults ?? {};
  const steps = Object.entries(raw.steps).map(([id, s]: [string, RawStep]): StepSpec => {
    const retry = s.retry ?? d.retry;
    const cwd = s.cwd ?? d.cwd;
    const ifField = s.if;
    return {
      id,
      kind: s.run !== undefined ? 'shell' : 'llm',
      run: s.run,
      prompt: s.prompt,
      system: s.system,
      provider: s.provider ?? d.provider,
      model: s.model ?? d.model,
      temperature: s.temperature ?? d.temperature,
      maxTokens: s.max_tokens ?? d.max_tokens,
      needs: [...new Set(s.needs ?? [])],
      ...(s.runs_on ? { runsOn: [...new Set(s.runs_on)] } : {}),
      if: ifField === undefined ? undefined : String(ifField),
      output: s.output ?? 'text',
      outputsSchema: s.outputs_schema,
      timeoutMs: s.timeout ?? d.timeout,
      ...(s.timeout === undefined && d.timeout !== undefined ? { timeoutFromDefaults: true as const } : {}),
      idleTimeoutMs: s.idle_timeout ?? d.idle_timeout,
      // LLM steps retry transient errors 3 times by default (SPEC §5); shell steps run once.
      retry: retry === undefined && s.prompt !== undefined ? LLM_DEFAULT_RETRY : retryPolicy(retry),
      hasOwnRetry: retry !== undefined,
      continueOnError: s.continue_on_error ?? d.continue_on_error ?? false,
      // A run step's env is the spec's `env:` under its own: both rendered for each attempt (expressions included).
      env: s.run !== undefined ? { ...stringEnv(raw.env), ...stringEnv(s.env) } : stringEnv(s.env),
      cwd: cwd === undefined ? dir : path.resolve(dir, cwd),
      shell: s.shell ?? d.shell ?? 'bash',
      ...cacheFields(s.run !== undefined, s.cache ?? d.cache),
      ...(s.matrix !== undefined || s.for_each !== undefined
        ? {
            fan: {
              ...(s.matrix ? { matrix: expandMatrix(s.matrix as RawMatrix).combos } : {}),
              ...(s.for_each !== undefined ? { forEach: s.for_each } : {}),
              ...(s.max_parallel !== undefined ? { maxParallel: s.max_parallel } : {}),
              failFast: s.fail_fast ?? false,
              maxInstances: s.max_instances ?? DEFAULT_MAX_INSTANCES,
            },
          }
        : {}),
    };
  });
  return {
    path: doc.path,
    displayPath: doc.displayPath,
    text: doc.text,
    format: doc.format,
    name: raw.name ?? (path.basename(doc.path) === STDIN_NAME ? 'stdin' : path.basename(doc.path).replace(/\.(ya?ml|json)$/i, '')),
    concurrency: raw.concurrency,
    onFailure: raw.on_failure ?? 'continue',
    timeoutMs: raw.timeout,
    secrets: raw.secrets ?? [],
    vars: raw.vars ?? {},
    env: stringEnv(raw.env),
    providers: raw.providers ?? {},
    ...(raw.workers ? { workers: { redisUrl: raw.workers.redis, ...(raw.workers.bucket ? { bucketUrl: raw.workers.bucket } : {}) } } : {}),
    steps,
    // Parsed again on demand (errors found after loading are rare): keeping the document alive would
    // keep megabytes of syntax tree in a long run, and every fork of a step copies the parent's memory map.
    locate: (p) => parseDocumentText(doc.text, { displayPath: doc.displayPath, path: doc.path, format: doc.format }).locator.value(p),
  };
}

/** The default concurrency: the number of CPUs. */
export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism());
}
