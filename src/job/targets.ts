import { OrchestratorError } from '../errors.js';
import type { JobSpec } from '../specfile/model.js';
import { didYouMean } from '../util/suggest.js';

/**
 * The spec cut down to the named steps and what they need, transitively (as `make build test` does); the steps keep
 * the spec's order. No names: the spec as it is. An unknown name is a usage error that lists the steps.
 */
export function selectTargets(spec: JobSpec, targets: string[]): JobSpec {
  if (targets.length === 0) return spec;
  const byId = new Map(spec.steps.map((s) => [s.id, s]));
  const ids = [...byId.keys()];
  for (const t of targets) {
    if (!byId.has(t)) throw new OrchestratorError({ code: 'usage', message: `the spec has no step "${t}"${didYouMean(t, ids)} (its steps: ${ids.join(', ')})` });
  }
  const keep = new Set<string>();
  const stack = [...targets];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (keep.has(id)) continue;
    keep.add(id);
    stack.push(...byId.get(id)!.needs);
  }
  return { ...spec, steps: spec.steps.filter((s) => keep.has(s.id)) };
}
