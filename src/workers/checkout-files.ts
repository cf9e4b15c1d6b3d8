// A cached run step on a worker (SPEC §10, §11): what it read in this checkout and environment (its input files'
// hashes before and after it ran, digests of its script's values and `cache.env` values), reported to the
// coordinator, which stores its result only if that agrees with the key it made from its own checkout; and its
// declared workspace outputs, sent back through the bucket.
import picomatch from 'picomatch';
import type { StepError } from '../errors.js';
import type { EvalContext } from '../expr/index.js';
import type { Bucket } from '../remote/bucket.js';
import type { StepSpec } from '../specfile/model.js';
import { digestRendered, type RanElsewhere, type RenderedDigests } from '../steps/ran-elsewhere.js';
import { renderShell } from '../steps/render.js';
import { hashFile } from '../store/hash.js';
import { matchFiles } from '../store/input-hashes.js';
import { isIoError } from '../store/io-fault.js';
import type { SentFile } from './protocol.js';
import { sendFiles } from './transfer.js';

/** What a cached step read here before it ran (a part that could not be read is missing: its result is then not stored). */
export interface ReadBefore {
  inputs?: Record<string, string>;
  rendered?: RenderedDigests;
}

/** Where a cached step runs on a worker. */
export interface CheckoutOptions {
  specDir: string;
  /** Folders never read as inputs or outputs. */
  exclude: string[];
  step: StepSpec;
  /** The environment its process starts from (the worker's, under the spec's `env:`). */
  env: NodeJS.ProcessEnv;
}

/** A cached step's files in a worker's checkout: under the spec's folder, never under `exclude`. */
export class CheckoutFiles {
  readonly #o: CheckoutOptions;

  constructor(o: CheckoutOptions) {
    this.#o = o;
  }

  /** Before the step runs: its input files' hashes, and its rendering's digests in its environment here. */
  read(context: EvalContext): ReadBefore {
    const rendered = renderShell(this.#o.step, context);
    const inputs = this.#hashInputs();
    return { ...(inputs ? { inputs } : {}), ...('error' in rendered ? {} : { rendered: digestRendered(rendered, this.#o.env) }) };
  }

  /** After it ran: what the coordinator is told (its inputs hashed again beside those of `before`). */
  report(before: ReadBefore): RanElsewhere {
    const after = this.#hashInputs();
    return { ...(before.inputs && after ? { inputs: { before: before.inputs, after } } : {}), ...(before.rendered ? { rendered: before.rendered } : {}) };
  }

  /** Upload the declared workspace outputs (`cache.outputs`) as they are now. */
  sendOutputs(bucket: Bucket | undefined): Promise<{ files: SentFile[] } | { error: StepError }> {
    const { specDir, exclude, step } = this.#o;
    return sendFiles({ root: specDir, paths: matchFiles(specDir, step.shellCache!.outputs, exclude), bucket, what: 'declared workspace output(s)' });
  }

  /** The SHA-256 of each input file (every one read), by path relative to the spec's folder; undefined when one cannot be read. */
  #hashInputs(): Record<string, string> | undefined {
    const { specDir, exclude, step } = this.#o;
    try {
      const out: Record<string, string> = {};
      for (const rel of matchFiles(specDir, step.shellCache!.inputs, exclude)) out[rel] = hashFile(specDir, rel).sha256;
      return out;
    } catch (e) {
      if (!isIoError(e)) throw e;
      return undefined;
    }
  }
}

/**
 * Whether a path a worker sent back (relative to the spec's folder, forward slashes) is one of the step's declared
 * workspace outputs: matched by an `outputs` glob and by no `!` glob (as `matchFiles` reads them, dot files
 * included), under none of the `exclude` folders (relative too). The coordinator writes nothing else into its checkout.
 */
export function declaredOutput(outputs: readonly string[], exclude: readonly string[]): (rel: string) => boolean {
  const plain = (p: string) => p.replace(/^(\.\/)+/, '');
  const positive = outputs.filter((p) => !p.startsWith('!')).map(plain);
  const negative = outputs.filter((p) => p.startsWith('!')).map((p) => plain(p.slice(1)));
  const yes = positive.length > 0 ? picomatch(positive, { dot: true }) : () => false;
  const no = negative.length > 0 ? picomatch(negative, { dot: true }) : () => false;
  const folders = exclude.map((d) => d.split('\\').join('/')).filter((d) => d !== '' && !d.startsWith('..'));
  return (rel) => yes(rel) && !no(rel) && !folders.some((d) => rel === d || rel.startsWith(`${d}/`));
}
