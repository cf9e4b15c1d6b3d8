/** A binary max-heap of step indices ordered by a fixed priority (ties: lower index first). */
export class ReadyQueue {
  readonly #items: number[] = [];
  readonly #rank: ArrayLike<number>;

  constructor(rank: ArrayLike<number>) {
    this.#rank = rank;
  }

  get size(): number {
    return this.#items.length;
  }

  #before(a: number, b: number): boolean {
    const ra = this.#rank[a]!, rb = this.#rank[b]!;
    return ra > rb || (ra === rb && a < b);
  }

  /** Add a ready step: O(log n). */
  push(i: number): void {
    const h = this.#items;
    h.push(i);
    let k = h.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.#before(h[k]!, h[p]!)) break;
      [h[k], h[p]] = [h[p]!, h[k]!];
      k = p;
    }
  }

  /** Take the ready step with the longest remaining path: O(log n). */
  pop(): number | undefined {
    const h = this.#items;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1, r = l + 1;
        let m = k;
        if (l < h.length && this.#before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#before(h[r]!, h[m]!)) m = r;
        if (m === k) break;
        [h[k], h[m]] = [h[m]!, h[k]!];
        k = m;
      }
    }
    return top;
  }

  /** Remove and return everything still queued. */
  drain(): number[] {
    return this.#items.splice(0);
  }
}
