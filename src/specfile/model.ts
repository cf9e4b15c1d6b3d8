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
  /** Tags a worker must have to run it (`runs_on`, runs with --workers); empty for any worker. */
  runsOn?: string[];
  /** The `if:` expression source (braces allowed), or undefined for the default `success()`. */
  if?: string;
  output: 'text' | 'json';
  outputsSchema?: Record<string, unknown>;
  /** Per attempt, as written (step, else `defaults:`); undefined when neither sets it; Infinity for `none` (no limit). */
  timeoutMs?: number;
  /** Set when timeoutMs is `defaults:`'s: a prompt step then takes its provider's `timeout` first. */
  timeoutFromDefaults?: true;
  idleTimeoutMs?: number;
  retry: RetryPolicy;
  /** True when the step set `retry:` itself (LLM steps otherwise get their own default). */
  hasOwnRetry: boolean;
  continueOnError: boolean;
  env: Record<string, string>;
  /** Absolute working directory. */
  cwd: string;
  shell: string;
  /** Whether the step may be answered from the cache (`cache: false` turns it off). */
  cache: boolean;
  /** A run step with `cache: {inputs, outputs, env}` (or `cache: true`, as `{}`): skipped when its key is stored (SPEC §11). */
  shellCache?: ShellCacheSpec;
  /** Set on a step with `matrix` or `for_each`: it runs as instances, and its dependents read their gathered results. */
  fan?: FanSpec;
  /** Set on an instance of a fanned step (made when the step is expanded at run time). */
  instance?: InstanceInfo;
}

/** What a cached run step declares (SPEC §11): globs relative to the spec's folder, env var names. */
export interface ShellCacheSpec {
  inputs: string[];
  outputs: string[];
  env: string[];
  /** An instance's globs that could not be rendered (SPEC §11): its attempt fails with code `expression` and this message. */
  error?: string;
}

/** How a fanned step expands (SPEC §8). */
export interface FanSpec {
  /** The matrix combinations in GitHub Actions' order; undefined without `matrix`. */
  matrix?: Record<string, unknown>[];
  /** The `for_each` field as written (`${{ expr }}`); undefined without one. */
  forEach?: string;
  /** At most this many instances run at once; undefined: only the job's concurrency limits them. */
  maxParallel?: number;
  /** The first failed instance cancels the others (default false). */
  failFast: boolean;
  maxInstances: number;
}

/** One instance of a fanned step: its id, its values and its place in the gathered results. */
export interface InstanceInfo {
  /** The fanned step's id. */
  of: string;
  id: string;
  /** Position in instance order (the order of `steps.<id>.results`). */
  index: number;
  /** Its values as a person reads them: `chapter-2.txt`, `llama3.2, q1`. */
  label: string;
  matrix?: Record<string, unknown>;
  /** Present (maybe null) only when the step has `for_each`. */
  item?: unknown;
  itemIndex?: number;
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
  /** `workers:`: where shell steps run when neither a flag nor the environment says. */
  workers?: { redisUrl: string; bucketUrl?: string };
  /** Steps in the order the spec lists them. */
  steps: StepSpec[];
  /** Line and column of a path in the spec file, for errors found after loading. */
  locate: (path: readonly PropertyKey[]) => { line: number; col: number };
}
