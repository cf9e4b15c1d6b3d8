import path from 'node:path';
import type { EvalContext } from '../expr/index.js';
import type { StepSpec } from '../specfile/model.js';
import { canonicalJson, cacheKey } from '../store/cache.js';
import { sha256 } from '../store/hash.js';
import { matchFiles, type InputHashes } from '../store/input-hashes.js';

/**
 * Bumped when what a step key covers or how a step entry is stored changes: old entries then simply miss.
 * 2: the step's id joined the key (its process reads it as $ORCH_STEP).
 */
export const STEP_CACHE_FORMAT = 2;

/** A run step as rendered for one attempt: what its key is made of besides its files. */
export interface RenderedShell {
  step: StepSpec;
  /** The script with `${ORCH_EXPR_n}` references, and their values. */
  script: string;
  exprEnv: Record<string, string>;
  stepEnv: Record<string, string>;
  cwd: string;
  context: EvalContext;
}

/** Where a job's steps live and what their keys read besides the step. */
export interface KeyScope {
  specDir: string;
  specEnv: Record<string, string>;
  /** The orchestrator's environment, where `cache.env` names are read (after the spec's and the step's env). */
  env: NodeJS.ProcessEnv;
  /** Folders never read as inputs (the runs folder, the cache folder). */
  exclude: string[];
  hashes: InputHashes;
}

/** A step's key, what it was made of (SPEC §11), and its input files as hashed. */
export interface StepKey {
  key: string;
  parts: Record<string, unknown>;
  inputs: Record<string, string>;
}

/**
 * The key of a cached run step: the SHA-256 of the canonical JSON of everything that shapes its result. Paths are
 * relative to the spec's folder, so clones, worktrees and machines agree.
 */
export function stepKey(r: RenderedShell, scope: KeyScope): StepKey {
  const decl = r.step.shellCache!;
  const inputs = hashInputs(decl.inputs, scope);
  const stepEnv = { ...scope.specEnv, ...r.stepEnv };
  const env = cacheEnvValues(decl.env, stepEnv, scope.env);
  const needs: Record<string, string> = {};
  const steps = (r.context.contexts.steps ?? {}) as Record<string, unknown>;
  for (const id of r.step.needs) needs[id] = sha256(canonicalJson(steps[id] ?? null));
  const instance = r.step.instance;
  const parts: Record<string, unknown> = {
    format: STEP_CACHE_FORMAT,
    // Its process reads it as $ORCH_STEP (and writes its artifacts under it): two steps with one script, such as
    // `make "$ORCH_STEP"` under two ids, are two results. An instance's id is its step's and its values'.
    step: r.step.id,
    script: r.script,
    script_values: r.exprEnv,
    shell: r.step.shell,
    cwd: relativeTo(scope.specDir, r.cwd),
    step_env: stepEnv,
    env,
    inputs,
    outputs: decl.outputs,
    output: r.step.output,
    needs,
    ...(instance?.matrix ? { matrix: instance.matrix } : {}),
    ...(instance && 'item' in instance ? { item: instance.item ?? null } : {}),
  };
  return { key: cacheKey(parts), parts, inputs };
}

/** The values of the variables a step's `cache.env` names, as its process sees them (its env, else the orchestrator's; null: unset). */
export function cacheEnvValues(names: string[], stepEnv: Record<string, string>, env: NodeJS.ProcessEnv): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of names) out[name] = stepEnv[name] ?? env[name] ?? null;
  return out;
}

/** The step's input files and their SHA-256, by path relative to the spec's folder. */
export function hashInputs(globs: string[], scope: KeyScope, o: { fresh?: boolean } = {}): Record<string, string> {
  return scope.hashes.hash(scope.specDir, matchFiles(scope.specDir, globs, scope.exclude), o);
}

/**
 * The first difference between two hashings of a step's inputs, as a sentence, or undefined: by default before and
 * after the step ran; with `differsOn` (e.g. `worker w1`), here and on that machine.
 */
export function describeInputChange(before: Record<string, string>, after: Record<string, string>, differsOn?: string): string | undefined {
  const [removed, changed, appeared] = differsOn === undefined ? ['was removed while the step ran', 'changed while the step ran', 'appeared while the step ran'] : [`is missing on ${differsOn}`, `differs on ${differsOn}`, `exists only on ${differsOn}`];
  for (const [p, sha] of Object.entries(before)) {
    if (!(p in after)) return `input ${p} ${removed}`;
    if (after[p] !== sha) return `input ${p} ${changed} (${sha.slice(0, 12)}… → ${after[p]!.slice(0, 12)}…)`;
  }
  for (const p of Object.keys(after)) if (!(p in before)) return `input ${p} ${appeared}`;
  return undefined;
}

function relativeTo(root: string, p: string): string {
  const rel = path.relative(root, p).split(path.sep).join('/');
  return rel === '' ? '.' : rel;
}
