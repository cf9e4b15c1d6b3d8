// One attempt of a run step through the step cache (SPEC §11), wherever its process runs (here, or on a worker):
// its key from the step as rendered here, a stored result restored with no process, else the run, and a
// succeeded result stored. The one path for local and remote attempts.
import type { StepSpec } from '../specfile/model.js';
import { ioFault, isIoError } from '../store/io-fault.js';
import type { Redactor } from '../store/redact.js';
import type { RunDir } from '../store/run-dir.js';
import type { RenderedShell } from './cache-key.js';
import type { InputsElsewhere } from './ran-elsewhere.js';
import type { StepCache } from './shell-cache.js';
import { failedAttempt, type AttemptResult } from './types.js';

/** What one run of an attempt produced; `elsewhere`: its inputs as the machine that ran it hashed them, when that was not this one. */
export interface RanAttempt {
  result: AttemptResult;
  elsewhere?: InputsElsewhere;
}

/** What runCachedAttempt needs. */
export interface CachedAttemptOptions {
  rendered: RenderedShell;
  cache: StepCache;
  runDir: RunDir;
  redactor: Redactor;
  /** Runs the attempt's process (a miss, or a read the cache may not answer: --no-cache, --force). */
  run: () => Promise<RanAttempt>;
}

/** Whether a step goes through the job's step cache: a run step with `cache:` (and not `cache: false`). */
export function isCachedStep(step: StepSpec): boolean {
  return step.shellCache !== undefined && step.cache;
}

/** Restore the attempt's stored result, or run it and store a succeeded result (SPEC §11). */
export async function runCachedAttempt(o: CachedAttemptOptions): Promise<AttemptResult> {
  const { rendered, cache, runDir } = o;
  const step = rendered.step;
  let key;
  try {
    key = cache.keyOf(rendered);
    const hit = cache.mayRead(step) ? await cache.restore(step, key, runDir) : undefined;
    if (hit) return { ...hit, cacheKeyParts: o.redactor.redactValue(hit.cacheKeyParts) };
  } catch (e) {
    if (!isIoError(e)) throw e;
    return failedAttempt(ioFault(e, e.path ?? cache.o.scope.specDir, 'read'));
  }
  const { result, elsewhere } = await o.run();
  if (result.status === 'succeeded') await cache.save({ step, key, result, runDir, elsewhere });
  return { ...result, cached: false, cacheKey: key.key, cacheKeyParts: o.redactor.redactValue(key.parts) };
}
