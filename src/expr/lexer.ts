import { parseError } from './errors.js';

/** The kinds of token in the expression language. */
export type TokenType =
  | '(' | ')' | '[' | ']' | ',' | '.' | '*'
  | '!' | '!=' | '==' | '>' | '>=' | '<' | '<=' | '&&' | '||'
  | 'number' | 'string' | 'identifier' | 'true' | 'false' | 'null' | 'eof';

/** One token; `pos` is the 0-based offset of its first character. */
export interface Token {
  type: TokenType;
  lexeme: string;
  pos: number;
  /** The decoded value of a number or string literal. */
  value?: number | string;
}

/** Expressions longer than this are rejected, as GitHub does. */
export const MAX_EXPRESSION_LENGTH = 21_000;

/** Characters that end an identifier or a number. */
const BOUNDARY = new Set(['(', '[', ')', ']', ',', '.', '!', '>', '<', '=', '&', '|']);
const isBoundary = (c: string): boolean => BOUNDARY.has(c) || /\s/.test(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const LEGAL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Token types after which `.` is property access rather than the start of a number like `.5`. */
const DOT_FOLLOWS = new Set<TokenType>(['identifier', ']', ')', '*']);

/** Split an expression into tokens (always ending with `eof`); throws a parsing ExpressionError. */
export function tokenize(src: string): Token[] {
  if (src.length > MAX_EXPRESSION_LENGTH) {
    throw parseError(`Exceeded max expression length ${MAX_EXPRESSION_LENGTH}`, 0);
  }
  const tokens: Token[] = [];
  let i = 0;
  const previous = (): TokenType => tokens[tokens.length - 1]?.type ?? 'eof';
  const push = (type: TokenType, start: number, value?: number | string): void => {
    tokens.push({ type, lexeme: src.slice(start, i), pos: start, ...(value === undefined ? {} : { value }) });
  };
  const unexpected = (start: number, end: number) => parseError(`Unexpected symbol: '${src.slice(start, end)}'`, start);

  /** Read up to the next boundary (for numbers, `.` does not end the token). */
  const readWord = (allowDot: boolean): void => {
    while (i < src.length) {
      const c = src[i] as string;
      if (isBoundary(c) && !(allowDot && c === '.')) break;
      i++;
    }
  };

  const readNumber = (start: number): void => {
    readWord(true);
    const value = Number(src.slice(start, i));
    if (Number.isNaN(value)) throw unexpected(start, i);
    push('number', start, value);
  };

  const readString = (start: number): void => {
    let value = '';
    for (;;) {
      if (i >= src.length) throw unexpected(start, src.length);
      const c = src[i++] as string;
      if (c !== "'") value += c;
      else if (src[i] === "'") {
        value += "'";
        i++;
      } else break;
    }
    push('string', start, value);
  };

  const readIdentifier = (start: number): void => {
    readWord(false);
    const lexeme = src.slice(start, i);
    if (!LEGAL_IDENTIFIER.test(lexeme)) throw unexpected(start, i);
    if (previous() === '.') return push('identifier', start);
    switch (lexeme) {
      case 'true':
      case 'false':
      case 'null':
        return push(lexeme, start);
      case 'NaN':
        return push('number', start, Number.NaN);
      case 'Infinity':
        return push('number', start, Number.POSITIVE_INFINITY);
      default:
        return push('identifier', start);
    }
  };

  /** `=`, `&`, `|` only exist doubled; a single one is read as an (illegal) word for the error. */
  const readDoubled = (start: number, second: string, type: TokenType): void => {
    if (src[i] === second) {
      i++;
      return push(type, start);
    }
    readWord(false);
    throw unexpected(start, i);
  };

  while (i < src.length) {
    const start = i;
    const c = src[i++] as string;
    switch (c) {
      case ' ': case '\t': case '\r': case '\n':
        break;
      case '(': case ')': case '[': case ']': case ',': case '*':
        push(c, start);
        break;
      case '.':
        if (DOT_FOLLOWS.has(previous())) push('.', start);
        else readNumber(start);
        break;
      case '-': case '+':
        readNumber(start);
        break;
      case '!': case '<': case '>':
        if (src[i] === '=') i++;
        push(src.slice(start, i) as TokenType, start);
        break;
      case '=':
        readDoubled(start, '=', '==');
        break;
      case '&':
        readDoubled(start, '&', '&&');
        break;
      case '|':
        readDoubled(start, '|', '||');
        break;
      case "'":
        readString(start);
        break;
      default:
        if (isDigit(c)) readNumber(start);
        else readIdentifier(start);
    }
  }
  tokens.push({ type: 'eof', lexeme: '', pos: src.length });
  return tokens;
}
