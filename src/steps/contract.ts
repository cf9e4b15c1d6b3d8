import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { OrchestratorError, type Diagnostic, type StepError } from '../errors.js';
import type { JobSpec, StepSpec } from '../specfile/model.js';

/** A step's outputs against its outputs_schema (an instance against its fanned step's): the error, or undefined when they hold. */
export type ContractCheck = (step: StepSpec, outputs: Record<string, unknown>) => StepError | undefined;

/** Compile every outputs_schema before anything runs; a bad schema is a spec error (exit 2). */
export function compileContracts(spec: JobSpec): ContractCheck {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validators = new Map<string, ValidateFunction>();
  const problems: Diagnostic[] = [];
  for (const step of spec.steps) {
    if (!step.outputsSchema) continue;
    try {
      validators.set(step.id, ajv.compile(step.outputsSchema));
    } catch (e) {
      const at = spec.locate(['steps', step.id, 'outputs_schema']);
      problems.push({ code: 'spec-invalid', message: `steps.${step.id}.outputs_schema: not a valid JSON Schema: ${(e as Error).message}`, file: spec.displayPath, ...at });
    }
  }
  if (problems.length > 0) throw new OrchestratorError(problems);
  return (step, outputs) => {
    const validate = validators.get(step.instance?.of ?? step.id); // an instance keeps its fanned step's contract
    if (!validate || validate(outputs)) return undefined;
    const lines = (validate.errors ?? []).map(describe);
    return { code: 'contract', message: `outputs do not match outputs_schema: ${lines.join('; ')}` };
  };
}

/** `outputs.endpoints[0].path: must be string`. */
function describe(e: ErrorObject): string {
  let where = 'outputs';
  for (const part of e.instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    // A key comes from the step's output: written as it is (never escaped or cut), so that the mask finds a secret in it.
    where += /^\d+$/.test(key) ? `[${key}]` : /^[A-Za-z_][\w-]*$/.test(key) ? `.${key}` : `["${key}"]`;
  }
  if (e.keyword === 'required') return `${where}.${String(e.params.missingProperty)} is required`;
  if (e.keyword === 'additionalProperties') return `${where}.${String(e.params.additionalProperty)} is not allowed`;
  return `${where} ${e.message ?? 'is invalid'}`;
}
