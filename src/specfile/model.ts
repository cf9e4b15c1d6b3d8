import type { RawProvider } from './schema.js';

/** How often and how patiently a step is retried. */
export interface RetryPolicy {
  attempts: number;
  delayMs: number;
  backoff: 'fixed' | 'exponential';
  maxDelayMs: number;
}

/** One step, checked, with defaults applied. */
export interface StepSpec {
  id: string;
  kind: 'shell' | 'llm';
  run?: string;
  prompt?: string;
  system?: string;
  provider?: string;
  model?: string;
  temperature?: number;
  maxTokens?: number;
  needs: string[];
  /** The `if:` expression source (braces allowed), or undefined for the default `success()`. */
  if?: string;
  output: 'text' | 'json';
  outputsSchema?: Record<string, unknown>;
  /** Per attempt, as written (step, else `defaults:`); undefined when neither sets it; Infinity for `none` (no limit). */
  timeoutMs?: number;
  idleTimeoutMs?: number;
  retry: RetryPolicy;
  /** True when the step set `retry:` itself (LLM steps otherwise get their own default). */
  hasOwnRetry: boolean;
  continueOnError: boolean;
  env: Record<string, string>;
  /** Absolute working directory. */
  cwd: string;
  shell: string;
  cache: boolean;
}

/** A spec, checked and ready to run. */
export interface JobSpec {
  /** Absolute path of the spec file. */
  path: string;
  displayPath: string;
  text: string;
  format: 'yaml' | 'json';
  name: string;
  concurrency?: number;
  onFailure: 'continue' | 'stop';
  /** The whole job's time limit, if any. */
  timeoutMs?: number;
  secrets: string[];
  vars: Record<string, unknown>;
  env: Record<string, string>;
  providers: Record<string, RawProvider>;
  /** Steps in the order the spec lists them. */
  steps: StepSpec[];
  /** Line and column of a path in the spec file, for errors found after loading. */
  locate: (path: readonly PropertyKey[]) => { line: number; col: number };
}
