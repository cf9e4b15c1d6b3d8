import type { BinaryOp, Expr } from './ast.js';
import { parseError, type ExpressionError } from './errors.js';
import { checkArity } from './arity.js';
import { tokenize, type Token, type TokenType } from './lexer.js';

/** Options for parsing. */
export interface ParseOptions {
  /** Context names that may be read (case-insensitive); others are parse errors. Default: any name. */
  contexts?: readonly string[];
}

/** Nesting deeper than this is a parse error, as GitHub does. */
export const MAX_DEPTH = 50;

/** Parse one expression (no ${{ }} braces). Throws ExpressionError(kind 'parsing'). Checks function names and arity. */
export function parseExpression(src: string, options: ParseOptions = {}): Expr {
  return new Parser(src, tokenize(src), options).parse();
}

const COMPARISONS = new Set<TokenType>(['<', '<=', '>', '>=']);
const EQUALITIES = new Set<TokenType>(['==', '!=']);

/** Recursive descent; depth is counted where GitHub counts it so the same inputs hit the limit. */
class Parser {
  readonly #src: string;
  readonly #tokens: Token[];
  readonly #contexts: Set<string> | undefined;
  #next = 0;
  #depth = 0;

  constructor(src: string, tokens: Token[], options: ParseOptions) {
    this.#src = src;
    this.#tokens = tokens;
    this.#contexts = options.contexts && new Set(options.contexts.map((c) => c.toLowerCase()));
  }

  parse(): Expr {
    if (this.#atEnd()) return { kind: 'literal', value: null, pos: 0 };
    const expr = this.#expression();
    if (!this.#atEnd()) throw this.#unexpected(this.#peek());
    return expr;
  }

  #expression(): Expr {
    this.#enter();
    const expr = this.#logical('||');
    this.#depth--;
    return expr;
  }

  /** `||` over `&&` over equality; operands of one operator are flattened into one node. */
  #logical(op: '||' | '&&'): Expr {
    const operand = (): Expr => (op === '||' ? this.#logical('&&') : this.#binary(EQUALITIES));
    const first = operand();
    if (!this.#check(op)) return first;
    const pos = this.#peek().pos;
    this.#enter();
    const args = [first];
    while (this.#match(op)) args.push(operand());
    this.#depth--;
    return { kind: 'logical', op, args, pos };
  }

  #binary(ops: Set<TokenType>): Expr {
    const operand = (): Expr => (ops === EQUALITIES ? this.#binary(COMPARISONS) : this.#unary());
    let left = operand();
    while (ops.has(this.#peek().type)) {
      const op = this.#advance();
      left = { kind: 'binary', op: op.type as BinaryOp, left, right: operand(), pos: op.pos };
    }
    return left;
  }

  #unary(): Expr {
    if (!this.#check('!')) return this.#postfix();
    const bang = this.#advance();
    this.#enter();
    const operand = this.#unary();
    this.#depth--;
    return { kind: 'not', operand, pos: bang.pos };
  }

  /** `a.b`, `a[x]`, `a.*`, `a[*]` — only after a context, a call or a parenthesised group. */
  #postfix(): Expr {
    let { expr, indexable } = this.#callOrPrimary();
    if (!indexable) return expr;
    const depth = this.#depth;
    for (;;) {
      const token = this.#peek();
      if (this.#match('[')) {
        if (this.#match('*')) expr = { kind: 'star', target: expr, pos: token.pos };
        else expr = { kind: 'index', target: expr, index: this.#expression(), pos: token.pos };
        this.#consume(']');
        this.#enter();
      } else if (this.#match('.')) {
        this.#enter();
        const name = this.#peek();
        if (this.#match('identifier')) {
          const index: Expr = { kind: 'literal', value: name.lexeme, pos: name.pos };
          expr = { kind: 'index', target: expr, index, pos: token.pos };
        } else if (this.#match('*')) expr = { kind: 'star', target: expr, pos: token.pos };
        else throw this.#unexpected(name);
      } else break;
    }
    this.#depth = depth;
    return expr;
  }

  #callOrPrimary(): { expr: Expr; indexable: boolean } {
    if (!this.#check('identifier')) return this.#primary();
    const id = this.#advance();
    if (!this.#match('(')) {
      if (this.#contexts && !this.#contexts.has(id.lexeme.toLowerCase())) {
        throw parseError(`Unrecognized named-value: '${id.lexeme}'`, id.pos);
      }
      return { expr: { kind: 'context', name: id.lexeme, pos: id.pos }, indexable: true };
    }
    const args: Expr[] = [];
    if (!this.#match(')')) {
      do args.push(this.#expression());
      while (this.#match(','));
      this.#consume(')');
    }
    const name = id.lexeme.toLowerCase();
    checkArity(name, id, args.length);
    return { expr: { kind: 'call', name, args, pos: id.pos }, indexable: true };
  }

  #primary(): { expr: Expr; indexable: boolean } {
    const token = this.#peek();
    switch (token.type) {
      case 'true':
      case 'false':
        this.#advance();
        return { expr: { kind: 'literal', value: token.type === 'true', pos: token.pos }, indexable: false };
      case 'null':
        this.#advance();
        return { expr: { kind: 'literal', value: null, pos: token.pos }, indexable: false };
      case 'number':
      case 'string':
        this.#advance();
        return { expr: { kind: 'literal', value: token.value ?? null, pos: token.pos }, indexable: false };
      case '(': {
        this.#advance();
        const expr = this.#expression();
        if (this.#atEnd()) throw this.#unexpectedEnd();
        this.#consume(')');
        return { expr, indexable: true };
      }
      case 'eof':
        throw this.#unexpectedEnd();
      default:
        throw this.#unexpected(token);
    }
  }

  #enter(): void {
    if (++this.#depth > MAX_DEPTH) throw parseError(`Exceeded max expression depth ${MAX_DEPTH}`, this.#peek().pos);
  }

  #peek(): Token {
    return this.#tokens[this.#next] ?? { type: 'eof', lexeme: '', pos: this.#src.length };
  }

  #atEnd(): boolean {
    return this.#peek().type === 'eof';
  }

  #check(type: TokenType): boolean {
    return this.#peek().type === type;
  }

  #advance(): Token {
    const token = this.#peek();
    if (token.type !== 'eof') this.#next++;
    return token;
  }

  #match(type: TokenType): boolean {
    if (!this.#check(type)) return false;
    this.#advance();
    return true;
  }

  #consume(type: TokenType): void {
    if (!this.#match(type)) throw this.#unexpected(this.#peek());
  }

  #unexpected(token: Token): ExpressionError {
    if (token.type === 'eof') return this.#unexpectedEnd();
    return parseError(`Unexpected symbol: '${describe(token)}'`, token.pos);
  }

  /** GitHub points at the last token before the end. */
  #unexpectedEnd(): ExpressionError {
    const last = this.#tokens[this.#next - 1];
    return parseError(`Unexpected end of expression${last ? `: '${describe(last)}'` : ''}`, last?.pos ?? 0);
  }
}

function describe(token: Token): string {
  return token.type === 'string' ? String(token.value) : token.lexeme;
}
