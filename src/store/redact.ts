/** Replaces secret values with `***` in everything the orchestrator writes. */
export class Redactor {
  /** The secrets as given, longest first. */
  readonly #secrets: string[];
  /** What is searched for: each secret, and also its form inside a JSON string where that differs (`"`, `\`, control characters). */
  readonly #forms: string[];

  /** Values shorter than 3 characters are not masked: they would mangle ordinary text. */
  constructor(values: Iterable<string | undefined>) {
    this.#secrets = [...new Set([...values].filter((v): v is string => typeof v === 'string' && v.length >= 3))].sort(
      (a, b) => b.length - a.length,
    );
    // Events, the manifest and outputs files are masked as JSON text, where a secret holding a quote or a
    // backslash appears escaped: the escaped form is a secret too.
    this.#forms = [...new Set(this.#secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))].sort((a, b) => b.length - a.length);
  }

  /** A redactor for the spec's `secrets:` and provider key variables, read from the environment. */
  static fromEnv(names: Iterable<string>, env: NodeJS.ProcessEnv = process.env): Redactor {
    return new Redactor([...names].map((n) => env[n]));
  }

  /** The values masked (for a launcher process that masks step logs itself). */
  get values(): string[] {
    return [...this.#secrets];
  }

  get isActive(): boolean {
    return this.#secrets.length > 0;
  }

  redact(text: string): string {
    if (this.#forms.length === 0) return text;
    let out = text;
    for (const s of this.#forms) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  /**
   * A copy of a JSON-like value with every string and key masked: for what is written as JSON (events, the
   * manifest, outputs files, cache entries). Masking the JSON text instead would miss a secret that a value
   * holds already escaped (stdout that printed JSON), which JSON.stringify escapes a second time.
   */
  redactValue<T>(value: T): T {
    if (this.#forms.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (v === null || typeof v !== 'object') return v;
      if (Array.isArray(v)) return v.map(walk);
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) out[this.redact(k)] = walk(inner);
      return out;
    };
    return walk(value) as T;
  }

  /**
   * Mask text that was cut short at its end (the first 16 MiB of a step's stdout): a secret the cut went
   * through leaves its start behind, which no longer matches; that start is masked too. A stream that
   * simply ended (`minPrefix` 4) masks an end that starts a secret only from 4 characters on, so that
   * ordinary text ending in a secret's first letter or two is left as it is.
   */
  redactCut(text: string, minPrefix = 1): string {
    const out = this.redact(text);
    const cut = startAtEnd(out, this.#secrets, minPrefix);
    return cut === 0 ? out : `${out.slice(0, out.length - cut)}***`;
  }

  /**
   * How long the end of (masked) `text` is that could be the start of a secret, or of its JSON form: what a stream
   * holds back until its next chunk, so that a secret split between two chunks is still masked whole. Only that
   * much: text that cannot start a secret goes out at once, in its place among the step's other output.
   */
  startOfSecretAtEnd(text: string): number {
    return startAtEnd(text, this.#forms, 1);
  }
}

/** The longest end of `text`, of at least `minPrefix` characters, that is the start (not the whole) of one of `values`. */
function startAtEnd(text: string, values: readonly string[], minPrefix: number): number {
  let cut = 0;
  for (const s of values) {
    for (let n = Math.min(s.length - 1, text.length); n > cut && n >= minPrefix; n--) {
      if (text.endsWith(s.slice(0, n))) cut = n;
    }
  }
  return cut;
}
