/** Operators that compare two values. */
export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A literal value as written in the source (numbers may be NaN, Infinity or -0). */
export type LiteralValue = null | boolean | number | string;

/**
 * A parsed expression. `pos` is the 0-based offset of the node's token in the source:
 * the literal, the context name, the `[` / `.` of an index, the operator, the function name.
 * Property access `a.b` is an `index` whose index is the string literal `'b'`.
 */
export type Expr =
  | { kind: 'literal'; value: LiteralValue; pos: number }
  | { kind: 'context'; name: string; pos: number }
  | { kind: 'index'; target: Expr; index: Expr; pos: number }
  | { kind: 'star'; target: Expr; pos: number }
  | { kind: 'not'; operand: Expr; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: number }
  | { kind: 'logical'; op: '&&' | '||'; args: Expr[]; pos: number }
  | { kind: 'call'; name: string; args: Expr[]; pos: number };
