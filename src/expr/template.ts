import type { Expr } from './ast.js';
import { toDisplayString } from './coerce.js';
import { ExpressionError, parseError } from './errors.js';
import { evaluate, type EvalContext } from './evaluate.js';
import { parseExpression, type ParseOptions } from './parser.js';

/** A string field split into literal text and ${{ expr }} parts; `offset` is the index in the field string where the expression source starts (after `${{`). */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'expr'; source: string; expr: Expr; offset: number };

const OPEN = '${{';
const CLOSE = '}}';

/** True if the string contains `${{`. */
export function hasTemplate(field: string): boolean {
  return field.includes(OPEN);
}

/**
 * The expressions of a field with their offsets in it: each `${{ }}` of a template, or, for a bare field (`if:`)
 * written without `${{ }}`, the whole text as one expression. Throws ExpressionError as parseTemplate does.
 */
export function fieldExpressions(field: string, o: { bare: boolean }): { expr: Expr; offset: number }[] {
  if (o.bare && !hasTemplate(field)) return [{ expr: parseExpression(field), offset: 0 }];
  return parseTemplate(field).flatMap((part) => (part.kind === 'expr' ? [{ expr: part.expr, offset: part.offset }] : []));
}

/**
 * fieldExpressions for `validate`, which tells every problem at once: each `${{ }}` is parsed on its own, so one
 * that fails does not hide the next; its error is in `errors` (in order) and the others in `exprs`. An unclosed
 * `${{` ends the field: what follows it has no `}}` to be read up to.
 */
export function fieldExpressionsEach(field: string, o: { bare: boolean }): { exprs: { expr: Expr; offset: number }[]; errors: ExpressionError[] } {
  const exprs: { expr: Expr; offset: number }[] = [];
  const errors: ExpressionError[] = [];
  const attempt = (parse: () => void) => {
    try {
      parse();
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      errors.push(e);
    }
  };
  if (o.bare && !hasTemplate(field)) {
    attempt(() => exprs.push({ expr: parseExpression(field), offset: 0 }));
    return { exprs, errors };
  }
  for (let from = 0; ; ) {
    const open = field.indexOf(OPEN, from);
    if (open < 0) break;
    const offset = open + OPEN.length;
    const close = findClose(field, offset);
    if (close < 0) {
      errors.push(parseError(`Unclosed '${OPEN}': no matching '${CLOSE}'`, open));
      break;
    }
    const source = field.slice(offset, close);
    attempt(() => {
      if (source.trim() === '') throw parseError(`An expression was expected inside '${OPEN} ${CLOSE}'`, open);
      exprs.push({ expr: parseAt(source, offset, undefined), offset });
    });
    from = close + CLOSE.length;
  }
  return { exprs, errors };
}

/**
 * Parsed templates by their text: the instances of a fanned step share their fields' text, parsed once for all of
 * them. The texts are the spec's (a bad one throws each time, and is not kept), so the map stays small.
 */
const parsed = new Map<string, TemplatePart[]>();

/** parseTemplate, once per text (default options). */
export function parseTemplateOnce(field: string): TemplatePart[] {
  let parts = parsed.get(field);
  if (!parts) parsed.set(field, (parts = parseTemplate(field)));
  return parts;
}

/**
 * Split a field into text and parsed expressions. Throws ExpressionError('parsing') for an unclosed
 * `${{` (pos = index of the `${{`), an empty `${{ }}`, or a bad expression (pos within the field).
 */
export function parseTemplate(field: string, options?: ParseOptions): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const pushText = (text: string): void => {
    if (text !== '') parts.push({ kind: 'text', text });
  };
  let from = 0;
  for (;;) {
    const open = field.indexOf(OPEN, from);
    if (open < 0) break;
    pushText(field.slice(from, open));
    const offset = open + OPEN.length;
    const close = findClose(field, offset);
    if (close < 0) throw parseError(`Unclosed '${OPEN}': no matching '${CLOSE}'`, open);
    const source = field.slice(offset, close);
    if (source.trim() === '') throw parseError(`An expression was expected inside '${OPEN} ${CLOSE}'`, open);
    parts.push({ kind: 'expr', source, expr: parseAt(source, offset, options), offset });
    from = close + CLOSE.length;
  }
  pushText(field.slice(from));
  return parts;
}

/** The index of the `}}` that ends an expression starting at `from`, skipping quoted 'strings'; -1 if none. */
function findClose(field: string, from: number): number {
  let quoted = false;
  for (let i = from; i < field.length; i++) {
    const c = field[i];
    if (c === "'") quoted = !quoted; // a doubled '' inside a string toggles twice
    else if (!quoted && c === '}' && field[i + 1] === '}') return i;
  }
  return -1;
}

function parseAt(source: string, offset: number, options: ParseOptions | undefined): Expr {
  try {
    return parseExpression(source, options);
  } catch (e) {
    if (e instanceof ExpressionError) throw new ExpressionError(e.kind, e.message, e.pos + offset);
    throw e;
  }
}

/** Evaluate a template into a string (single-expression templates that are the whole string also go through toDisplayString). */
export function renderTemplate(parts: TemplatePart[], ctx: EvalContext): string {
  let out = '';
  for (const part of parts) out += part.kind === 'text' ? part.text : toDisplayString(evaluate(part.expr, ctx));
  return out;
}
