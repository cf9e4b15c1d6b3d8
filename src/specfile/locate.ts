import { isMap, isSeq, isScalar, type Document, type LineCounter, type Node } from 'yaml';

/** A 1-based position in the spec file. */
export interface Position {
  line: number;
  col: number;
}

/** Maps paths inside the parsed document to line and column. */
export class Locator {
  readonly #doc: Document;
  readonly #lines: LineCounter;
  readonly #source: string;

  constructor(doc: Document, lines: LineCounter, source: string) {
    this.#doc = doc;
    this.#lines = lines;
    this.#source = source;
  }

  /** Position of a byte offset. */
  at(offset: number): Position {
    const { line, col } = this.#lines.linePos(offset);
    return { line, col };
  }

  /** Position of the value at `path`, or of its nearest existing ancestor. */
  value(path: readonly PropertyKey[]): Position {
    return this.at(this.#offsetOf(path, false));
  }

  /** Position of the key at the end of `path` (for unknown or misspelt keys, bad ids). */
  key(path: readonly PropertyKey[]): Position {
    return this.at(this.#offsetOf(path, true));
  }

  /** What the parser read the key at the end of `path` as: null for `~:` (which the data names "null"), undefined if absent. */
  keyValue(path: readonly PropertyKey[]): unknown {
    const parent = this.#node(path.slice(0, -1));
    if (!isMap(parent)) return undefined;
    const key = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(path[path.length - 1]))?.key;
    return isScalar(key) ? key.value : undefined;
  }

  /** Position of the `index`-th character inside a string value's source (for expressions). */
  inString(path: readonly PropertyKey[], index: number): Position {
    const node = this.#node(path);
    if (!node || !isScalar(node) || !node.range || typeof node.value !== 'string') return this.value(path);
    const value = node.value;
    const start = node.range[0];
    const src = this.#source.slice(start, node.range[1]);
    // A value written as is (a one-line plain scalar, a JSON string without escapes).
    const found = src.indexOf(value);
    if (found >= 0) return this.at(start + found + index);
    // A literal block (`|`): value line L is source line L after the header, shifted by the indentation.
    if (node.type === 'BLOCK_LITERAL') {
      const literal = this.#inLiteralBlock(src, value, index);
      if (literal !== undefined) return this.at(start + literal);
    }
    // Folded, multi-line or escaped text: the `${{` before `index` is written verbatim in the source,
    // so count which one it is and measure from it (escapes and folds inside one expression are rare).
    const open = value.lastIndexOf('${{', index);
    if (open >= 0) {
      let nth = 0;
      for (let i = value.indexOf('${{'); i >= 0 && i < open; i = value.indexOf('${{', i + 1)) nth++;
      let at = src.indexOf('${{');
      for (let k = 0; k < nth && at >= 0; k++) at = src.indexOf('${{', at + 1);
      if (at >= 0) return this.at(start + at + (index - open));
    }
    const quoted = src.startsWith('"') || src.startsWith("'") ? 1 : 0;
    return this.at(start + quoted + index);
  }

  /** Offset inside a `|` block's source of the value's `index`-th character; undefined if the block does not line up. */
  #inLiteralBlock(src: string, value: string, index: number): number | undefined {
    const header = src.indexOf('\n');
    if (header < 0) return undefined;
    const lines = src.slice(header + 1).split('\n');
    // The first line with content sets the indentation (an explicit `|2` indicator is too rare to model).
    const firstContent = lines.find((l) => l.trim() !== '') ?? '';
    const indent = firstContent.length - firstContent.trimStart().length;
    const before = value.slice(0, index);
    const line = before.split('\n').length - 1;
    const col = index - (before.lastIndexOf('\n') + 1);
    if (line >= lines.length) return undefined;
    let offset = header + 1;
    for (let k = 0; k < line; k++) offset += lines[k]!.length + 1;
    return offset + indent + col;
  }

  #node(path: readonly PropertyKey[]): Node | undefined {
    let node: unknown = this.#doc.contents;
    for (const key of path) {
      if (isMap(node)) node = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key))?.value;
      else if (isSeq(node)) node = node.items[Number(key)];
      else return undefined;
    }
    return node as Node | undefined;
  }

  #offsetOf(path: readonly PropertyKey[], wantKey: boolean): number {
    let node: unknown = this.#doc.contents;
    let offset = (node as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const key = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) break;
        const keyNode = pair.key as Node;
        if (last && wantKey && keyNode.range) return keyNode.range[0];
        node = pair.value;
        offset = (node as Node | null)?.range?.[0] ?? keyNode.range?.[0] ?? offset;
      } else if (isSeq(node)) {
        node = node.items[Number(key)];
        if (node === undefined) break;
        offset = (node as Node).range?.[0] ?? offset;
      } else break;
    }
    return offset;
  }
}
