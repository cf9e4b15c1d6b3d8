import { collectReferences, fieldExpressions, type Expr } from '../expr/index.js';
import { upstreamOf, type Graph } from '../graph/build.js';
import type { StepSpec } from '../specfile/model.js';

/**
 * The steps whose results go into step i's context. Its expressions may read every step it transitively needs
 * (SPEC §2), but a context holding them all costs O(ancestors) per step: quadratic in a chain. So it holds the
 * steps the expressions name (`validate` has checked each is an ancestor) and the direct needs (a cached step's
 * key covers their results), and every ancestor only when an expression reads `steps` as a whole (`steps.*`,
 * `toJSON(steps)`, `steps[expr]`) or its text cannot be read here. O(direct needs + references) otherwise.
 */
export function visibleSteps(g: Graph, i: number, step: StepSpec): Iterable<number> {
  const named = namedSteps(step);
  if (named === 'all') return upstreamOf(g, i);
  const visible = new Set(g.needs[i]);
  for (const id of named) {
    const j = g.index.get(id);
    if (j === undefined) return upstreamOf(g, i); // not a step of this graph: let the expression see what it may
    visible.add(j);
  }
  return visible;
}

/** The step ids that the step's expressions read through `steps.<id>`, or 'all'. */
function namedSteps(step: StepSpec): Set<string> | 'all' {
  const named = new Set<string>();
  const templates = [step.run, step.prompt, step.system, step.model, step.cwd, step.fan?.forEach, ...Object.values(step.env)];
  const exprs: Expr[] = [];
  try {
    for (const field of templates) if (field !== undefined) exprs.push(...fieldExpressions(field, { bare: false }).map((e) => e.expr));
    if (step.if !== undefined) exprs.push(...fieldExpressions(step.if, { bare: true }).map((e) => e.expr));
  } catch {
    return 'all'; // a text that does not parse fails where it is rendered, with its message
  }
  for (const expr of exprs) {
    for (const ref of collectReferences(expr).contexts) {
      if (ref.context !== 'steps') continue;
      const id = ref.path[0];
      if (id === undefined || id === '*') return 'all';
      named.add(id);
    }
  }
  return named;
}
