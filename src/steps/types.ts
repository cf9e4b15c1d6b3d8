import type { StepError } from '../events/types.js';
import type { AttemptResult } from '../events/step-result.js';
import type { EvalContext } from '../expr/index.js';
import type { StepSpec } from '../specfile/model.js';


/** Everything an executor needs to run one attempt. */
export interface AttemptInput {
  step: StepSpec;
  attempt: number;
  /** Aborted when the job is cancelled or stopped. */
  signal: AbortSignal;
  /** Expression context of this step (vars, env, job, the steps it needs). */
  context: EvalContext;
}

/** Runs attempts of one kind of step. */
export interface StepExecutor {
  runAttempt(input: AttemptInput): Promise<AttemptResult>;
}


/** Why an aborted step was stopped: the StepError the scheduler aborted with, else a plain cancellation. */
export function cancellationError(signal: AbortSignal): StepError {
  const r = signal.reason as Partial<StepError> | undefined;
  if (r && typeof r.code === 'string' && typeof r.message === 'string') return { code: r.code, message: r.message } as StepError;
  return { code: 'cancelled', message: 'cancelled' };
}

/** An attempt that failed before (or without) running anything: no exit code, no text, not worth retrying. */
export function failedAttempt(error: StepError): AttemptResult {
  return { status: 'failed', exitCode: null, text: '', outputs: {}, error, retryable: false };
}

export type { AttemptResult, StepResult } from '../events/step-result.js';
