// Reading and checking a spec, apart from running one: `orchestrator validate` needs this and nothing of the run's
// machinery (run folder, hashing, remote cache, processes), which api.ts brings along.
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { SPEC_OBJECT_NAME } from '../specfile/load.js';
import type { JobSpec } from '../specfile/model.js';
import { parseSpecArg } from '../specfile/spec-arg.js';
import { checkSpecText } from '../specfile/validate.js';

/** A spec: the path of a YAML or JSON file, or the same document as an object (read as JSON). */
export type SpecInput = string | Record<string, unknown>;

/**
 * Read and check a spec (a file, `-` for stdin, or an object read as JSON whose folder is the current directory),
 * outputs_schema contracts included; every problem in one OrchestratorError.
 */
export async function checkSpecInput(spec: SpecInput): Promise<JobSpec> {
  const job = typeof spec === 'string' ? await parseSpecArg(spec) : specOfObject(spec);
  if (job.steps.some((s) => s.outputsSchema)) (await import('../steps/contract.js')).compileContracts(job);
  // Each prompt step's provider, as a run resolves it (an unknown provider, none to choose, no model, a bad
  // base_url): what does not depend on keys, which a check (a CI gate without secrets) need not have.
  if (job.steps.some((s) => s.kind === 'llm')) (await import('../providers/resolve.js')).resolveProviders(job, { env: process.env, offline: true });
  return job;
}

/** A spec object as a JSON document: problems point into its JSON text, named `<spec object>`. */
function specOfObject(spec: Record<string, unknown>): JobSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new OrchestratorError({ code: 'usage', message: 'a spec is the path of a YAML or JSON file, or an object with `steps:`' });
  }
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  return checkSpecText(text, { displayPath: SPEC_OBJECT_NAME, path: path.resolve('spec.json'), format: 'json' });
}
