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

  /** Position of the `index`-th character inside a string value's source (for expressions). */
  inString(path: readonly PropertyKey[], index: number): Position {
    const node = this.#node(path);
    if (!node || !isScalar(node) || !node.range || typeof node.value !== 'string') return this.value(path);
    const start = node.range[0];
    const src = this.#source.slice(start, node.range[1]);
    // Plain and block scalars keep the text in place; quoted ones shift by the quote.
    const found = src.indexOf(node.value);
    if (found >= 0) return this.at(start + found + index);
    const quoted = src.startsWith('"') || src.startsWith("'") ? 1 : 0;
    return this.at(start + quoted + index);
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
