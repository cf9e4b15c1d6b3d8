// A cached run step on a worker (SPEC §10, §11): its input files hashed in this checkout before and after it
// runs (the coordinator stores its result only if both agree with the key it made from its own checkout), and
// its declared workspace outputs sent back through the bucket.
import type { StepError } from '../errors.js';
import type { Bucket } from '../remote/bucket.js';
import type { StepSpec } from '../specfile/model.js';
import { hashFile } from '../store/hash.js';
import { matchFiles } from '../store/input-hashes.js';
import { isIoError } from '../store/io-fault.js';
import type { SentFile } from './protocol.js';
import { sendFiles } from './transfer.js';

/** A cached step's files in a worker's checkout: under the spec's folder, never under `exclude`. */
export class CheckoutFiles {
  readonly #o: { specDir: string; exclude: string[]; step: StepSpec };

  constructor(o: { specDir: string; exclude: string[]; step: StepSpec }) {
    this.#o = o;
  }

  /** The SHA-256 of each input file (every one read), by path relative to the spec's folder; undefined when one cannot be read. */
  hashInputs(): Record<string, string> | undefined {
    const { specDir, exclude, step } = this.#o;
    try {
      const out: Record<string, string> = {};
      for (const rel of matchFiles(specDir, step.shellCache!.inputs, exclude)) out[rel] = hashFile(specDir, rel).sha256;
      return out;
    } catch (e) {
      // Reported as no hashes: the step still runs, and the coordinator does not store its result.
      if (!isIoError(e)) throw e;
      return undefined;
    }
  }

  /** Upload the declared workspace outputs (`cache.outputs`) as they are now. */
  sendOutputs(bucket: Bucket | undefined): Promise<{ files: SentFile[] } | { error: StepError }> {
    const { specDir, exclude, step } = this.#o;
    return sendFiles({ root: specDir, paths: matchFiles(specDir, step.shellCache!.outputs, exclude), bucket, what: 'declared workspace output(s)' });
  }
}
