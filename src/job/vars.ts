import { OrchestratorError } from '../errors.js';
import type { JobSpec } from '../specfile/model.js';
import { didYouMean } from '../util/suggest.js';

/**
 * Set vars the spec declares (the CLI's `--var k=v`, the library's `vars`): an undeclared name is a usage
 * error naming the declared ones, so that a typo never becomes an unused value. Names match as expressions
 * read them, case-insensitively (`SERVICE=x` sets the declared `service`). `given` says where the values
 * came from, for the message.
 */
export function setVars(spec: JobSpec, values: Iterable<[string, unknown]>, given: string): void {
  const declared = Object.keys(spec.vars);
  for (const [name, value] of values) {
    const key = declaredVar(spec, name);
    if (key === undefined) {
      const which = declared.length === 0 ? 'the spec declares no vars' : `the spec declares ${declared.map((k) => `"${k}"`).join(', ')}`;
      throw new OrchestratorError({ code: 'usage', message: `${given} ${name}: no such var (${which}; a var must be declared under \`vars:\` to be set)${didYouMean(name, declared)}` });
    }
    spec.vars = { ...spec.vars, [key]: value };
  }
}

/** The declared var `name` sets, as expressions read names: its exact name, else the one that differs only in case. */
export function declaredVar(spec: JobSpec, name: string): string | undefined {
  const declared = Object.keys(spec.vars);
  return declared.find((k) => k === name) ?? declared.find((k) => k.toLowerCase() === name.toLowerCase());
}
