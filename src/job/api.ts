// The library: `import { run, validate } from 'orchestrator-dag'`. The CLI is one client of the same
// functions (startJob, checkSpecInput); this module adds what a program needs instead of a terminal: a spec
// given as an object, vars as values, events as a callback, cancellation as an AbortSignal.
import { OrchestratorError, type Diagnostic } from '../errors.js';
import type { JobStatus, RunEvent } from '../events/types.js';
import type { JobSpec } from '../specfile/model.js';
import type { JobManifest } from '../store/manifest.js';
import { checkSpecInput, type SpecInput } from './spec-input.js';
import { startJob } from './start-job.js';
import { setVars } from './vars.js';
import { chooseWorkers } from './workers-choice.js';

/** How to run a job; every field is optional. */
export interface RunOptions {
  /** Where run folders go; default `$ORCH_RUNS_DIR`, else `./runs`. */
  runsDir?: string;
  /** Steps at once; default the spec's `concurrency`, else the number of CPUs. */
  concurrency?: number;
  /** Values of vars the spec declares (an undeclared name is an error, as with `--var`). */
  vars?: Record<string, unknown>;
  /** Stop at the first failure; default the spec's `on_failure`. */
  failFast?: boolean;
  /** The LLM response cache; default `$ORCH_CACHE_DIR`, else the user's cache folder. */
  cacheDir?: string;
  /** Do not read the response cache (fresh answers are still stored). */
  noCache?: boolean;
  /** Fail any LLM step whose answer is not cached. */
  offline?: boolean;
  /** Cancels the job as Ctrl-C does: running steps are stopped, the job is recorded `cancelled`. */
  signal?: AbortSignal;
  /** Every event of the job, as events.jsonl records it and the CLI renders it. */
  onEvent?: (event: RunEvent) => void;
  /** What a user should know before the job starts; default: `process.emitWarning`. */
  onWarning?: (message: string) => void;
  /**
   * Run shell steps on workers (`orchestrator worker`) that take them from this Redis, their files travelling
   * through the bucket; default `$ORCH_WORKERS`/`$ORCH_BUCKET`, else the spec's `workers:`.
   */
  workers?: { redis: string; bucket?: string };
  /** Run every step on this machine, whatever `$ORCH_WORKERS` or the spec's `workers:` say. */
  local?: boolean;
}

/** A finished job. */
export interface RunResult {
  status: Exclude<JobStatus, 'running'>;
  /** The job's manifest.json, as written. */
  manifest: JobManifest;
  /** Absolute path of the job's run folder. */
  runDir: string;
}

/** A spec's check: `ok`, or every problem with its `file:line:col`. */
export interface ValidateResult {
  ok: boolean;
  problems: Diagnostic[];
  /** The spec's name and step ids, when it is sound. */
  name?: string;
  steps?: string[];
}

/**
 * Run a job and record it in a new run folder. Resolves when the job has ended, whatever its status; rejects
 * with an OrchestratorError (its `diagnostics` as the CLI prints them) when the spec or the options are bad,
 * before any step runs and before a run folder exists.
 */
export async function run(spec: SpecInput, options: RunOptions = {}): Promise<RunResult> {
  const job = await checkSpecInput(spec);
  if (options.vars) setVars(job, Object.entries(options.vars), 'vars:');
  if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency >= 1)) {
    throw new OrchestratorError({ code: 'usage', message: `concurrency must be a whole number ≥ 1, not ${String(options.concurrency)}` });
  }
  const onEvent = options.onEvent;
  const outcome = await startJob({
    spec: job,
    runsDir: options.runsDir ?? (process.env.ORCH_RUNS_DIR || 'runs'),
    concurrency: options.concurrency,
    failFast: options.failFast,
    cacheDir: options.cacheDir,
    noCache: options.noCache,
    offline: options.offline,
    sinks: onEvent ? [{ emit: (e) => onEvent(e) }] : [],
    signal: options.signal ?? new AbortController().signal,
    warn: options.onWarning ?? ((message) => process.emitWarning(message, 'OrchestratorWarning')),
    workers: chooseWorkers({ spec: job, redisUrl: options.workers?.redis, bucketUrl: options.workers?.bucket, local: options.local, env: process.env }),
  });
  return { status: outcome.status, manifest: outcome.manifest, runDir: outcome.runDir.root };
}

/** Check a spec as `orchestrator validate` does, without running anything. */
export async function validate(spec: SpecInput): Promise<ValidateResult> {
  try {
    const job = await checkSpecInput(spec);
    return { ok: true, problems: [], name: job.name, steps: job.steps.map((s) => s.id) };
  } catch (e) {
    if (e instanceof OrchestratorError) return { ok: false, problems: e.diagnostics };
    throw e;
  }
}
