// The warnings of a job about cache globs that cannot be what their author meant (SPEC §11, "Globs match files"):
// a glob that names a folder, an `inputs` glob that matches no file, an `outputs` glob that matched none once the
// step ran. Each is given once per run per glob (as rendered, for an instance); the step runs and is cached as declared.
import picomatch from 'picomatch';
import type { StepSpec } from '../specfile/model.js';
import { folderGlobFor, matchFiles } from '../store/input-hashes.js';

/** A fanned step's instances name at most this many of their globs that match no file, per field; the rest are counted. */
export const NAMED_EMPTY_GLOBS = 3;

type Field = 'inputs' | 'outputs';

/** What the warnings read: where globs are matched from, the folders they never match in, and where a warning goes. */
export interface GlobWarningsOptions {
  specDir: string;
  exclude: string[];
  warn: (message: string) => void;
}

/** The glob warnings of one job: each glob once, however many attempts or instances meet it. */
export class GlobWarnings {
  readonly #seen = new Set<string>();
  /** Per fanned step and field: how many of its instances' empty globs were named, and how many more were met. */
  readonly #empty = new Map<string, { named: number; more: number }>();

  constructor(readonly o: GlobWarningsOptions) {}

  /**
   * Warn of a glob that names a folder (`docs`, `build`): globs match files, so it matches nothing, and the key
   * misses what the step reads or a hit restores nothing. Outputs are looked at again once the step ran, as a
   * folder the step makes is not there before.
   */
  folders(step: StepSpec, fields: Field[]): void {
    const name = step.instance?.of ?? step.id;
    for (const field of fields) {
      for (const glob of step.shellCache![field]) {
        const seen = `folder\0${name}\0${field}\0${glob}`;
        if (this.#seen.has(seen)) continue;
        const wide = folderGlobFor(this.o.specDir, glob);
        if (wide === undefined) continue;
        this.#seen.add(seen);
        this.o.warn(`step "${name}": cache.${field} "${glob}" names a folder, which matches no file: write "${wide}"`);
      }
    }
  }

  /**
   * Warn of each positive glob of `field` that matches no file (`matched`: the files all of them matched, excludes
   * applied): a typo (`source/**` for `src/**`) whose key covers nothing, or outputs the step writes elsewhere, of
   * which a hit restores nothing. Outputs are looked at once the step ran. A glob whose files are all excluded, a
   * glob that names a folder (warned of as such) and an exclude never warn.
   */
  empty(step: StepSpec, field: Field, matched: readonly string[]): void {
    const name = step.instance?.of ?? step.id;
    const globs = step.shellCache![field];
    // One positive glob and any file matched: that glob matched it (the usual case, told with no matcher).
    if (matched.length > 0 && globs.filter((g) => !g.startsWith('!')).length === 1) return;
    for (const glob of globs) {
      if (glob.startsWith('!')) continue;
      const seen = `empty\0${name}\0${field}\0${glob}`;
      if (this.#seen.has(seen)) continue;
      this.#seen.add(seen);
      if (!this.#matchesNoFile(glob, matched) || folderGlobFor(this.o.specDir, glob) !== undefined) continue;
      if (step.instance && !this.#mayName(`${name}\0${field}`)) continue;
      this.o.warn(
        field === 'inputs'
          ? `step "${name}": cache.inputs "${glob}" matches no file: the key covers none (a typo?)`
          : `step "${name}": cache.outputs "${glob}" matched no file after the step ran: nothing of it is stored or restored (does the step write somewhere else?)`,
      );
    }
  }

  /** The count of the instances' empty globs that were not named one by one (a fan-out of thousands gives one line each). */
  finish(): void {
    for (const [at, { more }] of this.#empty) {
      if (more === 0) continue;
      const [name, field] = at.split('\0');
      this.o.warn(`step "${name}": ${more} more of its instances' cache.${field} globs ${field === 'inputs' ? 'match' : 'matched'} no file (the first ${NAMED_EMPTY_GLOBS} are named above)`);
    }
    this.#empty.clear();
  }

  /** Whether one more empty glob of a fanned step's field is named; else it is counted. */
  #mayName(at: string): boolean {
    const count = this.#empty.get(at) ?? { named: 0, more: 0 };
    this.#empty.set(at, count);
    if (count.named < NAMED_EMPTY_GLOBS) {
      count.named++;
      return true;
    }
    count.more++;
    return false;
  }

  /**
   * Whether `glob` alone matches no file. One of the files all the globs matched answers most (a compiled matcher, first
   * match wins); only a glob none of them matches is looked for again on its own, without the excludes.
   */
  #matchesNoFile(glob: string, matched: readonly string[]): boolean {
    if (matched.length > 0) {
      const isMatch = picomatch(glob.replace(/^(\.\/)+/, ''), { dot: true });
      if (matched.some((f) => isMatch(f))) return false;
    }
    return matchFiles(this.o.specDir, [glob], this.o.exclude).length === 0;
  }
}
