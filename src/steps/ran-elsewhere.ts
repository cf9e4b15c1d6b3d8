// A cached run step that ran on another machine (a worker, SPEC §10): what that machine reports of what the
// step read there, and whether that agrees with the key made here. Its result is stored under the key only if
// it does: a checkout or an environment that differs must not fill the cache with results of other inputs.
import { canonicalJson } from '../store/cache.js';
import { sha256 } from '../store/hash.js';
import { cacheEnvValues, describeInputChange, type RenderedShell, type StepKey } from './cache-key.js';

/** Digests of what a key reads besides files, comparable across machines without sending values (they may be secrets). */
export interface RenderedDigests {
  /** SHA-256 of the script as run and its expressions' values. */
  script: string;
  /** SHA-256 of each `cache.env` variable's value (null: unset). */
  env: Record<string, string | null>;
}

/** What the machine that ran a cached step reports: its input files' hashes before and after it ran, and what it rendered. */
export interface RanElsewhere {
  inputs?: { before: Record<string, string>; after: Record<string, string> };
  rendered?: RenderedDigests;
}

/** A report, and the machine as messages name it (`worker w1`). */
export interface InputsElsewhere extends RanElsewhere {
  where: string;
}

/** The digests of a step as rendered on this machine, `env` its environment (a worker's). */
export function digestRendered(r: RenderedShell, env: NodeJS.ProcessEnv): RenderedDigests {
  return digestParts({ script: r.script, script_values: r.exprEnv, env: cacheEnvValues(r.step.shellCache!.env, r.stepEnv, env) });
}

/** Why a result made elsewhere may not be stored under `key`: the first thing that differed there or changed while it ran, else undefined. */
export function describeRanElsewhere(key: StepKey, e: InputsElsewhere): string | undefined {
  if (!e.inputs || !e.rendered) return `${e.where} did not report what the step read there`;
  const files = describeInputChange(key.inputs, e.inputs.before, e.where) ?? describeInputChange(e.inputs.before, e.inputs.after)?.concat(` on ${e.where}`);
  if (files) return files;
  const here = digestParts(key.parts as { script: string; script_values: Record<string, string>; env: Record<string, string | null> });
  if (here.script !== e.rendered.script) return `its script's expressions have other values on ${e.where} (env.* is read there)`;
  for (const [name, sha] of Object.entries(here.env)) if (e.rendered.env[name] !== sha) return `variable ${name} (cache.env) ${sha === null ? 'is set' : e.rendered.env[name] === null ? 'is unset' : 'differs'} on ${e.where}`;
  return undefined;
}

function digestParts(p: { script: string; script_values: Record<string, string>; env: Record<string, string | null> }): RenderedDigests {
  const env: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(p.env)) env[name] = value === null ? null : sha256(value);
  return { script: sha256(canonicalJson({ script: p.script, script_values: p.script_values })), env };
}
