/** The expression language (GitHub Actions expressions): parse, evaluate, templates, static references. */
export type { BinaryOp, Expr, LiteralValue } from './ast.js';
export { isTruthy, toDisplayString } from './coerce.js';
export { ExpressionError, type ExpressionErrorKind } from './errors.js';
export { evaluate, type EvalContext } from './evaluate.js';
export type { StatusFunctions } from './functions.js';
export { MAX_DEPTH, parseExpression, type ParseOptions } from './parser.js';
export { collectReferences, type ContextRef, type FunctionRef } from './references.js';
export { fieldExpressions, fieldExpressionsEach, hasTemplate, parseTemplate, parseTemplateOnce, renderTemplate, type TemplatePart } from './template.js';
