/** A syntax error of the `yaml` parser: its code, where it is (an offset into the text) and what it says. */
export interface YamlProblem {
  code: string;
  offset: number;
  message: string;
  /**
   * A mistake explained in our words: the stretch of text it is (a value, a line indented with tabs), which
   * `withoutMistakes` replaces with sound YAML to read on past it.
   */
  span?: readonly [number, number];
}

/** `key: value` on one line (also as a list item), with where the value starts. */
const KEY_VALUE = /^([ \t]*(?:-[ \t]+)?)([^\s#:"'{[][^:#]*?):[ \t]+(\S.*)$/;

/**
 * The common YAML traps, said in our words: a `: ` inside a plain value, tabs in indentation, a value that opens
 * a flow mapping or sequence, or that starts with a quote and goes on after it. Once a line is explained, the
 * parser's other errors on it (echoes of the same mistake) are dropped. Other errors pass through unchanged.
 *
 * `isKey(offset)`: whether the parser read a mapping key starting at that offset. After a first mistake the parser
 * is often out of step, and its later errors land on sound lines (stray tokens after the document it gave up on,
 * the inside of a quote it never saw closed): a later error is read from the shape of its line only when the
 * parser was in step there, i.e. read the line's key as a key; then it is a mistake of its own, explained as it
 * would be alone. Otherwise it is read only by its own code (and the caller reads the text again past the
 * mistakes explained: see withoutMistakes).
 */
export function explainYamlProblems(problems: readonly YamlProblem[], text: string, isKey: (offset: number) => boolean): YamlProblem[] {
  const out: YamlProblem[] = [];
  let shadowEnd = -1; // errors before this offset echo a trap already explained
  let isFirst = true;
  for (const p of [...problems].sort((a, b) => a.offset - b.offset)) {
    if (p.offset < shadowEnd) continue;
    const hint = explainOne(p, text, isFirst, isKey);
    isFirst &&= p.code === 'TAB_AS_INDENT';
    if (!hint) {
      out.push(p);
      continue;
    }
    out.push(hint);
    shadowEnd = nextContentOffset(text, p.offset);
  }
  return out;
}

function explainOne(p: YamlProblem, text: string, isFirst: boolean, isKey: (offset: number) => boolean): YamlProblem | undefined {
  const lineStart = text.lastIndexOf('\n', p.offset - 1) + 1;
  const lineEnd = text.indexOf('\n', lineStart);
  const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).replace(/\r$/, '');
  if (p.code === 'TAB_AS_INDENT') {
    return { ...p, message: 'tabs are not allowed in YAML indentation: indent with spaces', span: [lineStart, lineStart + line.length] };
  }
  const m = KEY_VALUE.exec(line);
  if (!m) return isFirst ? explainUnclosed(p, text, lineStart, isKey) : undefined;
  const inStep = isFirst || isKey(lineStart + m[1]!.length);
  const key = m[2]!.trim();
  const value = m[3]!;
  const valueOffset = lineStart + line.length - value.length;
  const span = [valueOffset, valueOffset + value.length] as const;
  const block = blockHint(key);
  const flow = inStep ? explainFlowValue(key, value) : undefined;
  if (flow) return { ...p, offset: valueOffset, message: flow, span };
  if (inStep && (value.startsWith('"') || value.startsWith("'"))) {
    return { ...p, offset: valueOffset, message: `the value of \`${key}\` starts with a quote, so YAML reads a quoted string that must be the whole value: quote all of it or use ${block}`, span };
  }
  const colon = value.indexOf(': ');
  if (p.code === 'BLOCK_AS_IMPLICIT_KEY' && colon >= 0) {
    return { ...p, offset: valueOffset + colon, message: `": " inside the value of \`${key}\` starts a nested mapping in YAML: quote the value or use ${block}`, span };
  }
  return undefined;
}

/**
 * A quote, `[` or `{` that opens a value and is never closed: the parser reads on and reports where it gave up (the
 * end of the file, the next step's key), on a line with nothing wrong. The nearest value above that opens one and
 * does not close it on its own line is the mistake. Lines whose key the parser did not read as a key are passed
 * over: they are inside the quote (or after the document it gave up on).
 */
function explainUnclosed(p: YamlProblem, text: string, lineStart: number, isKey: (offset: number) => boolean): YamlProblem | undefined {
  let end = lineStart;
  for (let lines = 0; end > 0 && lines < 500; lines++) {
    const start = text.lastIndexOf('\n', end - 2) + 1;
    const line = text.slice(start, end - 1).replace(/\r$/, '');
    end = start;
    const m = KEY_VALUE.exec(line);
    if (!m || !isKey(start + m[1]!.length)) continue;
    const key = m[2]!.trim();
    const value = m[3]!;
    const valueOffset = start + line.length - value.length;
    const span = [valueOffset, valueOffset + value.length] as const;
    const quote = value[0];
    if (quote === '"' || quote === "'") {
      if (value.length > 1 && value.slice(1).includes(quote)) return undefined; // closed on its line: not this
      return { ...p, offset: valueOffset, message: `the value of \`${key}\` opens a quote (${quote}) that is never closed, so YAML reads on past the end of the line looking for it: close the quote, or use ${blockHint(key)}`, span };
    }
    if (quote === '[' || quote === '{') {
      const close = quote === '[' ? ']' : '}';
      if (value.trimEnd().endsWith(close)) return undefined;
      const what = quote === '{' ? 'mapping' : 'sequence';
      return { ...p, offset: valueOffset, message: `the value of \`${key}\` opens a YAML flow ${what} with "${quote}" that is never closed with "${close}": close it, or, if \`${key}\` is meant as text, quote the whole value or use ${blockHint(key)}`, span };
    }
  }
  return undefined;
}

/** Why a value starting with `{` or `[` is not text (`run: {echo hi}` is a mapping), or undefined for other values. */
export function explainFlowValue(key: string, value: string): string | undefined {
  if (!value.startsWith('{') && !value.startsWith('[')) return undefined;
  const what = value.startsWith('{') ? 'a YAML flow mapping' : 'a YAML flow sequence';
  return `"${value[0]}" at the start of a value opens ${what}: if \`${key}\` is meant as text, quote the whole value or use ${blockHint(key)}`;
}

function blockHint(key: string): string {
  return `\`${key}: |\` with the text on the next lines`;
}

/** The offset of the first non-blank character after the line holding `offset`. */
function nextContentOffset(text: string, offset: number): number {
  const eol = text.indexOf('\n', offset);
  if (eol < 0) return text.length + 1;
  const rest = /\S/.exec(text.slice(eol + 1));
  return rest ? eol + 1 + rest.index : text.length + 1;
}

/**
 * The text with each explained mistake replaced by sound YAML of the same length (a value by a quoted string, a
 * line indented with tabs by blanks): read again, it shows the mistakes after them as they would be alone, at the
 * same offsets, where the parser's recovery from the first one would echo it or lose them.
 */
export function withoutMistakes(text: string, problems: readonly YamlProblem[]): string {
  const spans = problems.flatMap((p) => (p.span ? [{ tabs: p.code === 'TAB_AS_INDENT', from: p.span[0], to: p.span[1] }] : [])).sort((a, b) => a.from - b.from);
  let out = '';
  let at = 0;
  for (const { tabs, from, to } of spans) {
    if (from < at) continue;
    const length = to - from;
    out += text.slice(at, from) + (tabs ? ' '.repeat(length) : length < 2 ? 'x' : `"${'x'.repeat(length - 2)}"`);
    at = to;
  }
  return out + text.slice(at);
}
