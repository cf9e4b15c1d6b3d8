/** Which stage found the problem: parsing (validation time) or evaluation (run time). */
export type ExpressionErrorKind = 'parsing' | 'evaluation';

/** A user error inside an expression; pos is a 0-based offset into the expression source. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  readonly kind: ExpressionErrorKind;
  readonly pos: number;

  constructor(kind: ExpressionErrorKind, message: string, pos: number) {
    super(message);
    this.kind = kind;
    this.pos = pos;
  }
}

/** A parse error at `pos`. */
export function parseError(message: string, pos: number): ExpressionError {
  return new ExpressionError('parsing', message, pos);
}

/** An evaluation error at `pos`. */
export function evalError(message: string, pos: number): ExpressionError {
  return new ExpressionError('evaluation', message, pos);
}
