import type { StepError } from '../errors.js';
import type { StepStatus, TokenUsage } from '../events/types.js';
import type { EvalContext } from '../expr/index.js';
import type { StepSpec } from '../specfile/model.js';

/** What one attempt of a step produced. */
export interface AttemptResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  exitCode: number | null;
  /** stdout (shell) or the response (LLM), trimmed. */
  text: string;
  /** `text` holds only the first MAX_CAPTURE_BYTES of a longer stdout. */
  textTruncated?: boolean;
  outputs: Record<string, unknown>;
  error?: StepError;
  /** Whether another attempt may help (exit or timeout for shell; transient errors for LLM). */
  retryable: boolean;
  /** A delay the other side asked for (Retry-After). */
  retryAfterMs?: number;
  cached?: boolean;
  usage?: TokenUsage;
  /** LLM steps: the response-cache key and what it was made of. */
  cacheKey?: string;
  cacheKeyParts?: Record<string, unknown>;
}

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

/** The settled state of a step, as the manifest and dependents see it. */
export interface StepResult {
  status: StepStatus;
  attempts: number;
  exitCode: number | null;
  text: string;
  /** `text` holds only the first MAX_CAPTURE_BYTES of a longer stdout. */
  textTruncated?: boolean;
  outputs: Record<string, unknown>;
  error: StepError | null;
  cached: boolean;
  reused: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  durationS: number | null;
  usage?: TokenUsage;
  cacheKey?: string;
  cacheKeyParts?: Record<string, unknown>;
}

/** Why an aborted step was stopped: the StepError the scheduler aborted with, else a plain cancellation. */
export function cancellationError(signal: AbortSignal): StepError {
  const r = signal.reason as Partial<StepError> | undefined;
  if (r && typeof r.code === 'string' && typeof r.message === 'string') return { code: r.code, message: r.message } as StepError;
  return { code: 'cancelled', message: 'cancelled' };
}
