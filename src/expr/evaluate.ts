import { getProperty, indexValue, starOf } from './access.js';
import type { Expr } from './ast.js';
import { isTruthy } from './coerce.js';
import { greaterThan, lessThan, looseEquals } from './compare.js';
import { evalError } from './errors.js';
import { callBuiltin, type StatusFunctions } from './functions.js';
import { MemoryBudget } from './memory.js';

/** What an expression can read: the named contexts (case-insensitive) and, in `if:`, the step status. */
export interface EvalContext {
  contexts: Record<string, unknown>;
  status?: StatusFunctions;
}

interface State {
  ctx: EvalContext;
  memory: MemoryBudget;
}

/** Evaluate; throws ExpressionError(kind 'evaluation') e.g. for fromJSON of bad JSON or status functions with no `status`. always() is true. */
export function evaluate(expr: Expr, ctx: EvalContext): unknown {
  return evalNode(expr, { ctx, memory: new MemoryBudget() });
}

function evalNode(expr: Expr, state: State): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'context':
      return getProperty(state.ctx.contexts, expr.name) ?? null;
    case 'index':
      return indexValue(evalNode(expr.target, state), evalNode(expr.index, state));
    case 'star':
      return starOf(evalNode(expr.target, state));
    case 'not':
      return !isTruthy(evalNode(expr.operand, state));
    case 'binary':
      return compare(expr.op, evalNode(expr.left, state), evalNode(expr.right, state));
    case 'logical':
      return evalLogical(expr.op, expr.args, state);
    case 'call':
      if (expr.name === 'case') return evalCase(expr.args, state);
      return callBuiltin(
        expr.name,
        expr.args.map((arg) => evalNode(arg, state)),
        { memory: state.memory, status: state.ctx.status, pos: expr.pos },
      );
    default: {
      const unknownNode: never = expr;
      throw new Error(`unknown expression node ${JSON.stringify(unknownNode)}`);
    }
  }
}

function compare(op: Extract<Expr, { kind: 'binary' }>['op'], left: unknown, right: unknown): boolean {
  switch (op) {
    case '==':
      return looseEquals(left, right);
    case '!=':
      return !looseEquals(left, right);
    case '<':
      return lessThan(left, right);
    case '<=':
      return looseEquals(left, right) || lessThan(left, right);
    case '>':
      return greaterThan(left, right);
    case '>=':
      return looseEquals(left, right) || greaterThan(left, right);
    default: {
      const unknownOp: never = op;
      throw new Error(`unknown operator ${String(unknownOp)}`);
    }
  }
}

/** `a && b && c` yields the first falsy operand (else the last); `||` the first truthy one. */
function evalLogical(op: '&&' | '||', args: Expr[], state: State): unknown {
  let result: unknown = null;
  for (const arg of args) {
    result = evalNode(arg, state);
    if (isTruthy(result) === (op === '||')) break;
  }
  return result;
}

/** case(pred1, value1, pred2, value2, …, default): only the needed arguments are evaluated. */
function evalCase(args: Expr[], state: State): unknown {
  for (let i = 0; i + 1 < args.length; i += 2) {
    const predicate = evalNode(args[i] as Expr, state);
    if (typeof predicate !== 'boolean') {
      throw evalError('case predicate must evaluate to a boolean value', (args[i] as Expr).pos);
    }
    if (predicate) return evalNode(args[i + 1] as Expr, state);
  }
  return evalNode(args[args.length - 1] as Expr, state);
}
