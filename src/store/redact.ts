/** Replaces secret values with `***` in everything the orchestrator writes. */
export class Redactor {
  readonly #secrets: string[];

  /** Values shorter than 3 characters are not masked: they would mangle ordinary text. */
  constructor(values: Iterable<string | undefined>) {
    this.#secrets = [...new Set([...values].filter((v): v is string => typeof v === 'string' && v.length >= 3))].sort(
      (a, b) => b.length - a.length,
    );
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

  /** The longest secret, so streams can hold back that much across chunk boundaries. */
  get longest(): number {
    return this.#secrets[0]?.length ?? 0;
  }

  redact(text: string): string {
    if (this.#secrets.length === 0) return text;
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }
}
