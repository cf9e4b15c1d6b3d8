// One attempt of a run step through the step cache (SPEC §11), wherever its process runs (here, or on a worker):
// its key from the step as rendered here, a stored result restored with no process, else the run, and a
// succeeded result stored. The one path for local and remote attempts.
import fs from 'node:fs';
import type { StepSpec } from '../specfile/model.js';
import { ioFault, isIoError, tryWrite } from '../store/io-fault.js';
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
  } catch (e) {
    if (!isIoError(e)) throw e;
    return failedAttempt(ioFault(e, e.path ?? cache.o.scope.specDir, 'read'));
  }
  // What the cache says of this entry meanwhile (a damaged or unsigned entry, a bucket that fails) is the step's too.
  const said = cache.collect(key.key, step.id);
  let hit: AttemptResult | undefined;
  try {
    hit = cache.mayRead(step) ? await cache.restore(step, key, runDir) : undefined;
  } catch (e) {
    said.done();
    if (!isIoError(e)) throw e;
    return failedAttempt(ioFault(e, e.path ?? cache.o.scope.specDir, 'read'));
  }
  let result: AttemptResult;
  if (hit) result = { ...hit, cacheKeyParts: o.redactor.redactValue(hit.cacheKeyParts) };
  else {
    try {
      const ran = await o.run();
      // Stored only if it succeeded, its outputs_schema too (the scheduler fails it otherwise; a hit must be a success).
      if (ran.result.status === 'succeeded' && !cache.o.checkContract?.(step, ran.result.outputs)) await cache.save({ step, key, result: ran.result, runDir, elsewhere: ran.elsewhere });
      result = { ...ran.result, cached: false, cacheKey: key.key, cacheKeyParts: o.redactor.redactValue(key.parts) };
    } catch (e) {
      said.done();
      throw e;
    }
  }
  return withWarnings(result, said.done(), runDir.logPath(step.id), o.redactor);
}

/** The cache's warnings about an attempt's entry, at the end of its log and in its result (its event's cache_warnings). */
function withWarnings(result: AttemptResult, warnings: string[], log: string, redactor: Redactor): AttemptResult {
  if (warnings.length === 0) return result;
  const fault = tryWrite(log, () => fs.appendFileSync(log, warnings.map((w) => `[orchestrator] cache: ${redactor.redact(w)}\n`).join('')));
  // The log grew: its record is made from the file as it is now, not from what the attempt wrote.
  const { logFile: _written, ...rest } = result;
  const cacheWarnings = [...(result.cacheWarnings ?? []), ...warnings];
  return fault && result.status === 'succeeded' ? { ...rest, cacheWarnings, status: 'failed', error: fault, retryable: false } : { ...rest, cacheWarnings };
}
