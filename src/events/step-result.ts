// What a step's attempts and its settling produce: plain data that the scheduler, the executors, the
// run folder and resume all pass around.
import type { CacheSource, FileRecord, InstanceCounts, StepError, StepStatus, TokenUsage } from './types.js';

/** What the cache says of an attempt, and of the step it settles (cached steps: prompt answers and run steps). */
export interface CacheFacts {
  /** The cache key and what it was made of. */
  cacheKey?: string;
  cacheKeyParts?: Record<string, unknown>;
  /** A cache hit: where it was found. */
  cacheSource?: CacheSource;
  /** Remote-cache problems the attempt met (each also told to the user as it happened). */
  cacheWarnings?: string[];
}

/** What one attempt of a step produced. */
export interface AttemptResult extends CacheFacts {
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
  /** The step's log as it stands after this attempt, when the executor wrote all of it (LLM steps): not read back to hash it. */
  logFile?: FileRecord;
}

/** The settled state of a step, as the manifest and dependents see it. */
export interface StepResult extends CacheFacts {
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
  /** The step's log, from its last attempt (AttemptResult.logFile). */
  logFile?: FileRecord;
  /** A fanned step: every instance's result, in instance order (`steps.<id>.results`). */
  results?: GatheredResult[];
  /** A fanned step: its instances by final status. */
  instances?: InstanceCounts;
}

/** One element of `steps.<id>.results` (SPEC §8). */
export interface GatheredResult {
  id: string;
  status: StepStatus;
  outputs: Record<string, unknown>;
  text: string;
  exit_code: number | null;
  /** The instance's matrix combination; null without a matrix. */
  matrix: Record<string, unknown> | null;
  /** The instance's for_each item; null without for_each. */
  item: unknown;
}
