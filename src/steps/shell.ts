import path from 'node:path';
import { formatDuration } from '../specfile/duration.js';
import type { StepSpec } from '../specfile/model.js';
import { ioFault, isIoError } from '../store/io-fault.js';
import type { Redactor } from '../store/redact.js';
import type { StepFilePrefetcher } from '../store/prefetch.js';
import type { RunDir } from '../store/run-dir.js';
import type { ProcessLauncher } from '../process/launcher.js';
import { parseJsonOutput, parseOutputFile } from './outputs.js';
import { MAX_CAPTURE_BYTES, type ProcessOutcome } from '../process/step-process.js';
import { renderShell } from './render.js';
import type { RenderedShell } from './cache-key.js';
import { isCachedStep, runCachedAttempt } from './cached-attempt.js';
import type { StepCache } from './shell-cache.js';
import { cancellationError, failedAttempt, type AttemptInput, type AttemptResult, type StepExecutor } from './types.js';

/** A shell step's time limit per attempt when neither it nor `defaults:` sets `timeout` (as GitHub Actions: 6 hours). */
export const DEFAULT_SHELL_TIMEOUT_MS = 6 * 3_600_000;

/** A shell step's time limit per attempt: its `timeout`, else the default; undefined for `timeout: none`. */
export function shellTimeoutMs(step: StepSpec): number | undefined {
  const ms = step.timeoutMs ?? DEFAULT_SHELL_TIMEOUT_MS;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Runs `run:` steps: one process group per attempt, output to logs/<step>.log, killed as a tree. */
export class ShellExecutor implements StepExecutor {
  readonly #runDir: RunDir;
  readonly #launcher: ProcessLauncher;
  readonly #secrets: string[];
  readonly #redactor: Redactor;
  readonly #files: StepFilePrefetcher;
  readonly #cache: StepCache | undefined;
  readonly #specEnv: Record<string, string>;

  /** `specEnv`: the spec's `env:` under each step's own, for a launcher that does not have it already (a worker's). */
  constructor(o: { runDir: RunDir; launcher: ProcessLauncher; redactor: Redactor; files: StepFilePrefetcher; cache?: StepCache; specEnv?: Record<string, string> }) {
    this.#runDir = o.runDir;
    this.#launcher = o.launcher;
    this.#secrets = o.redactor.values;
    this.#redactor = o.redactor;
    this.#files = o.files;
    this.#cache = o.cache;
    this.#specEnv = o.specEnv ?? {};
  }

  async runAttempt({ step, attempt, signal, context }: AttemptInput): Promise<AttemptResult> {
    const rendered = renderShell(step, context);
    if ('error' in rendered) return failedAttempt(rendered.error);
    try {
      await this.#files.ready(step.id); // outputs/<id>.json and artifacts/<id>/ exist from here
    } catch (e) {
      if (!isIoError(e)) throw e;
      return failedAttempt(ioFault(e, e.path ?? this.#runDir.outputPath(step.id)));
    }
    const run = () => this.#run({ rendered, attempt, signal });
    if (!this.#cache || !isCachedStep(step)) return run();
    return runCachedAttempt({ rendered, cache: this.#cache, runDir: this.#runDir, redactor: this.#redactor, run: async () => ({ result: await run() }) });
  }

  async #run(o: { rendered: RenderedShell; attempt: number; signal: AbortSignal }): Promise<AttemptResult> {
    const { attempt, signal } = o;
    const { step, script, exprEnv, stepEnv, cwd } = o.rendered;
    const dir = this.#runDir;
    const artifactsDir = dir.artifactsDir(step.id);
    const outputFile = path.join(dir.workDir, `${step.id}.${attempt}.out`);
    const running = this.#launcher.start({
      shell: step.shell,
      script,
      cwd,
      env: { ...this.#specEnv, ...stepEnv, ...exprEnv, ORCH_JOB_ID: dir.jobId, ORCH_STEP: step.id, ORCH_RUN_DIR: dir.root, ORCH_ARTIFACTS: artifactsDir, ORCH_OUTPUT: outputFile },
      logPath: dir.logPath(step.id),
      attempt,
      outputFile,
      timeoutMs: shellTimeoutMs(step),
      idleTimeoutMs: step.idleTimeoutMs,
      secrets: this.#secrets,
    });
    const onAbort = () => running.cancel();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      return result(step, await running.outcome, signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

function result(step: StepSpec, run: ProcessOutcome, signal: AbortSignal): AttemptResult {
  const text = run.stdout.trim();
  const base = { exitCode: run.exitCode, text, outputs: {}, ...(run.truncated ? { textTruncated: true } : {}) };
  if (run.ioError) return { ...base, status: 'failed', error: run.ioError, retryable: false };
  if (run.reason === 'cancelled') return { ...base, status: 'cancelled', error: cancellationError(signal), retryable: false };
  if (run.reason === 'timeout') {
    const limit = formatDuration(shellTimeoutMs(step)!);
    // A step that never asked for a limit should learn where this one came from, and how to change it.
    const message = step.timeoutMs === undefined ? `timed out after ${limit} (the default; set \`timeout:\` on the step or in \`defaults:\`, or \`timeout: none\`)` : `timed out after ${limit}`;
    return { ...base, status: 'failed', error: { code: 'timeout', message }, retryable: true };
  }
  if (run.reason === 'idle-timeout') return { ...base, status: 'failed', error: { code: 'idle-timeout', message: `no output for ${formatDuration(step.idleTimeoutMs!)}` }, retryable: true };
  if (run.spawnError) return { ...base, status: 'failed', error: { code: 'spawn', message: run.spawnError }, retryable: false };
  if (run.exitCode !== 0) {
    const message = run.exitCode === null ? `killed by ${run.signal}` : `exited with code ${run.exitCode}`;
    return { ...base, status: 'failed', error: { code: 'exit', message }, retryable: true };
  }
  let outputs: Record<string, unknown> = {};
  if (run.outputText !== undefined) {
    const parsed = parseOutputFile(run.outputText);
    if ('error' in parsed) return { ...base, status: 'failed', error: { code: 'output', message: parsed.error }, retryable: false };
    outputs = parsed.outputs;
  }
  if (step.output === 'json') {
    if (run.truncated) {
      const message = `stdout was cut at ${MAX_CAPTURE_BYTES / (1024 * 1024)} MiB, the most a step's stdout is kept in memory: not parsed as JSON for output: json (the log has all of it)`;
      return { ...base, status: 'failed', error: { code: 'output', message }, retryable: false };
    }
    const parsed = parseJsonOutput(run.stdout);
    if ('error' in parsed) return { ...base, status: 'failed', error: { code: 'output', message: parsed.error }, retryable: false };
    outputs = { ...outputs, ...parsed.outputs };
  }
  return { ...base, status: 'succeeded', outputs, retryable: false };
}
