// Which step a cached step needs (directly or not) declares a workspace file among its own cache outputs (SPEC §11):
// a hit must not put back its stored copy of a file such a step has just written anew (`package`'s `dist/**` holds
// `compile`'s `dist/app.js`). Globs are compiled once per step: a file costs a set lookup and a regex test per need.
import path from 'node:path';
import picomatch from 'picomatch';
import type { StepSpec } from '../specfile/model.js';
import { GLOB_CHARS } from '../specfile/cache-globs.js';

/** One needed step's outputs as a test of a path (relative to the spec's folder, forward slashes). */
interface Claim {
  step: string;
  claims: (rel: string) => boolean;
}

/** The cache outputs of each step's needs, direct and transitive, as those steps rendered them in this job. */
export class NeededOutputs {
  readonly #steps: Map<string, StepSpec>;
  /** A fanned step's outputs globs as its instances rendered them (by the rendered list's JSON), noted as their keys are made. */
  readonly #rendered = new Map<string, Map<string, string[]>>();
  /** By step (a fanned step's for its instances): its needs' compiled outputs. Dropped when an instance renders new globs. */
  readonly #claims = new Map<string, Claim[]>();

  constructor(steps: readonly StepSpec[]) {
    this.#steps = new Map(steps.map((s) => [s.id, s]));
  }

  /** Note an instance's outputs globs as rendered for it (a step without matrix or for_each has them as written). */
  note(step: StepSpec): void {
    if (!step.instance || !step.shellCache || step.shellCache.outputs.length === 0) return;
    const of = step.instance.of;
    const seen = this.#rendered.get(of) ?? new Map<string, string[]>();
    this.#rendered.set(of, seen);
    const key = JSON.stringify(step.shellCache.outputs);
    if (seen.has(key)) return;
    seen.set(key, step.shellCache.outputs);
    this.#claims.clear();
  }

  /** The first step `step` needs (directly or not) whose cache outputs match `rel`; undefined when none does. */
  claimant(step: StepSpec, rel: string): string | undefined {
    for (const c of this.#claimsOf(step.instance?.of ?? step.id)) if (c.claims(rel)) return c.step;
    return undefined;
  }

  #claimsOf(id: string): Claim[] {
    let claims = this.#claims.get(id);
    if (claims) return claims;
    claims = [];
    for (const need of this.#needsOf(id)) {
      const s = this.#steps.get(need);
      if (!s?.shellCache || !s.cache || s.shellCache.outputs.length === 0) continue;
      // A fanned step's globs with ${{ }} mean nothing as written: its instances' renderings (none noted: none ran here).
      const lists = s.fan && s.shellCache.outputs.some((g) => g.includes('${{')) ? [...(this.#rendered.get(need)?.values() ?? [])] : [s.shellCache.outputs];
      // Instances whose excludes agree share one matcher (most share all: no excludes, or the same ones).
      const byExcludes = new Map<string, { positive: string[]; negative: string[] }>();
      for (const globs of lists) {
        const negative = globs.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
        const group = byExcludes.get(JSON.stringify(negative)) ?? { positive: [], negative };
        byExcludes.set(JSON.stringify(negative), group);
        group.positive.push(...globs.filter((g) => !g.startsWith('!')));
      }
      for (const { positive, negative } of byExcludes.values()) claims.push({ step: need, claims: compile(positive, negative) });
    }
    this.#claims.set(id, claims);
    return claims;
  }

  /** The steps `id` needs, directly or not, nearest first. */
  #needsOf(id: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>([id]);
    const queue = [...(this.#steps.get(id)?.needs ?? [])];
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      if (seen.has(n)) continue;
      seen.add(n);
      out.push(n);
      queue.push(...(this.#steps.get(n)?.needs ?? []));
    }
    return out;
  }
}

/** A test of a path against globs as matchFiles reads them (dot files included, a leading ./ dropped): plain paths by a set, the rest by one regex. */
function compile(positive: string[], negative: string[]): (rel: string) => boolean {
  const yes = matcherOf(positive);
  const no = negative.length > 0 ? matcherOf(negative) : () => false;
  return (rel) => yes(rel) && !no(rel);
}

function matcherOf(globs: string[]): (rel: string) => boolean {
  const plain = new Set<string>();
  const patterns: string[] = [];
  for (const g of globs) {
    const bare = g.replace(/^(\.\/)+/, '');
    if (GLOB_CHARS.test(bare)) patterns.push(bare);
    else plain.add(path.posix.normalize(bare));
  }
  const re = patterns.length > 0 ? new RegExp(patterns.map((p) => `(?:${picomatch.makeRe(p, { dot: true }).source})`).join('|')) : undefined;
  return (rel) => plain.has(rel) || (re?.test(rel) ?? false);
}
