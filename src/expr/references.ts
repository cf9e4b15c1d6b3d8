import type { Expr } from './ast.js';
import { toStr } from './coerce.js';

/** One read of a context: `steps.build.outputs.x` -> {context: 'steps', path: ['build', 'outputs', 'x'], pos}. */
export interface ContextRef {
  /** The context name, lowercased (names are case-insensitive). */
  context: string;
  /** Literal property names as written, `'*'` for a star; stops at the first computed index. */
  path: string[];
  /** Offset of the context name in the expression source. */
  pos: number;
}

/** A function call: its lowercased name and the offset of the name. */
export interface FunctionRef {
  name: string;
  pos: number;
}

/** Every context read and function call of an expression, in source order, for static checks. */
export function collectReferences(expr: Expr): { contexts: ContextRef[]; functions: FunctionRef[] } {
  const contexts: ContextRef[] = [];
  const functions: FunctionRef[] = [];

  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'literal':
        return;
      case 'context':
        contexts.push({ context: e.name.toLowerCase(), path: [], pos: e.pos });
        return;
      case 'index':
      case 'star':
        return visitChain(e);
      case 'not':
        return visit(e.operand);
      case 'binary':
        visit(e.left);
        return visit(e.right);
      case 'logical':
        return e.args.forEach(visit);
      case 'call':
        functions.push({ name: e.name, pos: e.pos });
        return e.args.forEach(visit);
      default: {
        const unknownNode: never = e;
        throw new Error(`unknown expression node ${JSON.stringify(unknownNode)}`);
      }
    }
  };

  /** `a.b[c].*`: one reference for the base context with the literal part of the path, then the computed indexes. */
  const visitChain = (e: Expr): void => {
    const steps: Expr[] = [];
    let base = e;
    while (base.kind === 'index' || base.kind === 'star') {
      steps.unshift(base);
      base = base.target;
    }
    visit(base);
    const ref = base.kind === 'context' ? contexts[contexts.length - 1] : undefined;
    let literal = ref !== undefined;
    for (const step of steps) {
      if (step.kind === 'star') {
        if (literal) ref?.path.push('*');
      } else if (step.kind === 'index') {
        if (literal && step.index.kind === 'literal') ref?.path.push(toStr(step.index.value));
        else literal = false;
        visit(step.index);
      }
    }
  };

  visit(expr);
  return { contexts, functions };
}
