// Test double for unit tests of src/scheduler/scheduler.ts: a StepExecutor whose attempts finish only
// when the test says so, plus a small harness that runs the real scheduler over it and records every event.
import type { StepError, StepErrorCode } from '../../src/errors.js';
import type { RunEventBody } from '../../src/events/types.js';
import type { EvalContext } from '../../src/expr/index.js';
import { buildGraph } from '../../src/graph/build.js';
import { longestRemainingPath } from '../../src/graph/priority.js';
import { runScheduler, type SchedulerOutcome } from '../../src/scheduler/scheduler.js';
import type { JobSpec, StepSpec } from '../../src/specfile/model.js';
import { cancellationError, type AttemptInput, type AttemptResult, type StepExecutor } from '../../src/steps/types.js';

/** One attempt the scheduler started on the fake; the test ends it with succeed/fail. */
export interface FakeAttempt {
  step: string;
  attempt: number;
  signal: AbortSignal;
  context: EvalContext;
  settled: boolean;
  finish: (result: AttemptResult) => void;
}

/** What a test may set on a successful attempt. */
export interface FakeSuccess {
  outputs?: Record<string, unknown>;
  text?: string;
  exitCode?: number;
}

/** What a test may set on a failed attempt. */
export interface FakeFailure {
  code?: StepErrorCode;
  message?: string;
  retryable?: boolean;
  exitCode?: number | null;
}

/**
 * FakeStepExecutor (a test double, never used outside test/): every attempt stays in flight until the test
 * calls `succeed` or `fail`. Like a real step, an attempt whose signal aborts ends at once as `cancelled`.
 */
export class FakeStepExecutor implements StepExecutor {
  /** Every attempt started, in start order. */
  readonly attempts: FakeAttempt[] = [];
  /** Most attempts ever in flight at once. */
  maxInFlight = 0;

  runAttempt(input: AttemptInput): Promise<AttemptResult> {
    return new Promise((resolve) => {
      const a: FakeAttempt = {
        step: input.step.id,
        attempt: input.attempt,
        signal: input.signal,
        context: input.context,
        settled: false,
        finish: (result) => {
          if (a.settled) return;
          a.settled = true;
          input.signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
      };
      const onAbort = () => a.finish({ status: 'cancelled', exitCode: null, text: '', outputs: {}, error: cancellationError(input.signal), retryable: false });
      if (input.signal.aborted) queueMicrotask(onAbort);
      else input.signal.addEventListener('abort', onAbort, { once: true });
      this.attempts.push(a);
      this.maxInFlight = Math.max(this.maxInFlight, this.running.length);
    });
  }

  /** Steps with an attempt in flight, in start order. */
  get running(): string[] {
    return this.attempts.filter((a) => !a.settled).map((a) => a.step);
  }

  /** Steps in the order their first attempt started. */
  get startOrder(): string[] {
    return this.attempts.filter((a) => a.attempt === 1).map((a) => a.step);
  }

  /** The attempt of `step` in flight; throws when there is none (the scheduler has not started it). */
  current(step: string): FakeAttempt {
    const a = this.attempts.find((x) => x.step === step && !x.settled);
    if (!a) throw new Error(`step "${step}" has no attempt in flight (running: ${this.running.join(', ') || 'none'})`);
    return a;
  }

  /** End the attempt of `step` in flight as succeeded, then let the scheduler react. */
  async succeed(step: string, r: FakeSuccess = {}): Promise<void> {
    this.current(step).finish({ status: 'succeeded', exitCode: r.exitCode ?? 0, text: r.text ?? '', outputs: r.outputs ?? {}, retryable: false });
    await flush();
  }

  /** End the attempt of `step` in flight as failed (retryable by default, like a non-zero exit), then let the scheduler react. */
  async fail(step: string, f: FakeFailure = {}): Promise<void> {
    const error: StepError = { code: f.code ?? 'exit', message: f.message ?? 'exited with code 1' };
    this.current(step).finish({ status: 'failed', exitCode: f.exitCode === undefined ? 1 : f.exitCode, text: '', outputs: {}, error, retryable: f.retryable ?? true });
    await flush();
  }
}

/** Let every pending promise callback run (the scheduler settles steps in microtasks; zero-delay retries too). */
export async function flush(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A step for unit tests: only what the test sets, the rest as validate.ts would default it. */
export type FakeStepInit = Partial<Omit<StepSpec, 'id'>>;

/** A checked JobSpec built directly (no file): steps in the given order. */
export function jobSpecOf(steps: Record<string, FakeStepInit>, extra: Partial<JobSpec> = {}): JobSpec {
  const list = Object.entries(steps).map(
    ([id, s]): StepSpec => ({
      id,
      kind: 'shell',
      run: `echo ${id}`,
      needs: [],
      output: 'text',
      retry: { attempts: 1, delayMs: 0, backoff: 'fixed', maxDelayMs: Infinity },
      hasOwnRetry: false,
      continueOnError: false,
      env: {},
      cwd: '/',
      shell: 'bash',
      cache: true,
      ...s,
    }),
  );
  return {
    path: '/fake/spec.yaml',
    displayPath: 'spec.yaml',
    text: '',
    format: 'yaml',
    name: 'fake',
    onFailure: 'continue',
    secrets: [],
    vars: {},
    env: {},
    providers: {},
    steps: list,
    locate: () => ({ line: 1, col: 1 }),
    ...extra,
  };
}

/** A scheduler running over a FakeStepExecutor, with every event it emitted. */
export interface FakeSchedulerRun {
  fake: FakeStepExecutor;
  events: RunEventBody[];
  outcome: Promise<SchedulerOutcome>;
  /** The external signal's controller (Ctrl-C). */
  controller: AbortController;
  /** Whether the scheduler has resolved. */
  readonly isDone: boolean;
  /** `type step` per event, e.g. `step.started a`: the sequence tests assert on. */
  log(): string[];
  /** The final event of each step, by step id. */
  finals(): Record<string, RunEventBody>;
}

/** Start the real scheduler on a spec, with the fake executor; returns at once (attempts wait for the test). */
export function startFakeScheduler(
  spec: JobSpec,
  o: {
    concurrency?: number;
    failFast?: boolean;
    vars?: Record<string, unknown>;
    checkContract?: (step: StepSpec, outputs: Record<string, unknown>) => StepError | undefined;
  } = {},
): FakeSchedulerRun {
  const fake = new FakeStepExecutor();
  const events: RunEventBody[] = [];
  const controller = new AbortController();
  const graph = buildGraph(spec.steps);
  let isDone = false;
  const outcome = runScheduler({
    spec,
    graph,
    concurrency: o.concurrency ?? 4,
    failFast: o.failFast ?? spec.onFailure === 'stop',
    rank: longestRemainingPath(graph, () => 1),
    emit: (e) => events.push(e),
    execute: (step, attempt, signal, context) => fake.runAttempt({ step, attempt, signal, context }),
    onSettled: () => undefined,
    checkContract: o.checkContract,
    contexts: { vars: o.vars ?? spec.vars, env: {}, job: { id: 'job-1', name: spec.name, run_dir: '/fake/run' } },
    signal: controller.signal,
  }).then((r) => {
    isDone = true;
    return r;
  });
  const FINAL = new Set(['step.succeeded', 'step.failed', 'step.skipped', 'step.cancelled']);
  return {
    fake,
    events,
    outcome,
    controller,
    get isDone() {
      return isDone;
    },
    log: () => events.map((e) => ('step' in e ? `${e.type} ${e.step}` : e.type)),
    finals: () => Object.fromEntries(events.filter((e) => FINAL.has(e.type) && 'step' in e).map((e) => [(e as { step: string }).step, e])),
  };
}
