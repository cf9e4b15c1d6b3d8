// What a step's attempts and its settling produce: plain data that the scheduler, the executors, the
// run folder and resume all pass around.
import type { StepError, StepStatus, TokenUsage } from './types.js';

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
