import { setMaxListeners } from 'node:events';
import type { StepError } from '../errors.js';
import type { CacheSource, JobStatus, RunEventBody } from '../events/types.js';
import { collectReferences, evaluate, hasTemplate, isTruthy, parseExpression, parseTemplate, renderTemplate, type EvalContext, type Expr } from '../expr/index.js';
import { appendInstances, type Graph } from '../graph/build.js';
import { instanceStep, instanceValuesKey } from '../graph/instances.js';
import { FanGroup, planExpansion } from './fan-group.js';
import { formatDuration } from '../specfile/duration.js';
import type { InstanceInfo, JobSpec, StepSpec } from '../specfile/model.js';
import type { FileRecord } from '../events/types.js';
import type { AttemptResult, StepResult } from '../events/step-result.js';
import { ReadyQueue } from './heap.js';
import { sleep } from '../util/sleep.js';
import { retryDelayMs } from './retry.js';
import { visibleSteps } from './visible-steps.js';

/** A step whose workers are lost this many times in a row fails with `worker-lost` (something kills every worker that runs it). */
const MAX_LOST_WORKERS = 3;

/** Everything the scheduler needs; it only emits events and calls `execute`. */
export interface SchedulerOptions {
  spec: JobSpec;
  graph: Graph;
  concurrency: number;
  /** Stop at the first failure (on_failure: stop or --fail-fast). */
  failFast: boolean;
  /** Priority of each step: longest remaining path. */
  rank: ArrayLike<number>;
  emit: (event: RunEventBody) => void;
  /** Run one attempt of a step. */
  execute: (step: StepSpec, attempt: number, signal: AbortSignal, context: EvalContext) => Promise<AttemptResult>;
  /**
   * A step's final result is known: write its outputs file; the files it returns go into its final event.
   * A `fault` (its records could not be written: disk-full, io) fails the step with that error.
   */
  onSettled: (step: StepSpec, result: StepResult) => { files?: FileRecord[]; fault?: StepError } | undefined;
  /** Validate a successful attempt's outputs against outputs_schema. */
  checkContract?: (step: StepSpec, outputs: Record<string, unknown>) => StepError | undefined;
  /** Steps carried over from an earlier job (resume/rerun): settled before anything runs. */
  reused?: ReadonlyMap<string, StepResult>;
  /** Of reused instances, their recorded values' identity (instanceValuesKey): one whose new values differ runs instead. */
  reusedValues?: ReadonlyMap<string, string>;
  /** Base expression contexts (vars, env, job). */
  contexts: { vars: Record<string, unknown>; env: Record<string, unknown>; job: Record<string, unknown> };
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** Aborted by a second Ctrl-C: steps that run after a stop (always(), cancelled()) are stopped, and none starts. */
  killSignal?: AbortSignal;
  /** The whole job's time limit: running steps are stopped and the job fails. */
  jobTimeoutMs?: number;
  /**
   * Masks the secrets' values (SPEC §4), as the run folder's records are masked: an instance's id never holds one, its
   * label is masked, and its values are compared masked with a reused instance's recorded ones.
   */
  secrets?: { redact(text: string): string; redactValue<T>(value: T): T };
  /** Fanned step `step` expanded: these instances of it will run (e.g. to make their files ahead). */
  onExpanded?: (step: StepSpec, instanceIds: string[]) => void;
}

/** The outcome of a whole job. */
export interface SchedulerOutcome {
  status: Exclude<JobStatus, 'running'>;
  results: StepResult[];
}

const isOk = (r: StepResult, step: StepSpec) => r.status === 'succeeded' || (r.status === 'failed' && step.continueOnError);

/** Run the DAG: a ready queue under the concurrency limit, longest remaining path first. O(steps + edges) bookkeeping. */
export function runScheduler(o: SchedulerOptions): Promise<SchedulerOutcome> {
  return new SchedulerRun(o).run();
}

/**
 * One run of the engine. Its state is a handful of fields; its phases are the methods, in the order a step
 * meets them: `decide` (skip, cancel or queue a step whose needs are settled), `pump` (start ready steps
 * under the limit), `runStep` (attempts and retries), `settle` (record, then release the children), and
 * `halt` (stop: cancel what runs, settle what waits). `finish` resolves when every step is settled.
 */
class SchedulerRun {
  readonly #o: SchedulerOptions;
  /** The job's graph; a fanned step's instances are appended to it when it expands (its node becomes their gather). */
  readonly #g: Graph;
  /** Every id of the graph lowercased: an instance's id must differ from each other id case-insensitively (macOS files). */
  readonly #foldedIds: Set<string>;
  /** By node; an instance's entry is made on first use (#stepAt). */
  readonly #steps: (StepSpec | undefined)[];
  /** By node, made on first use: the steps whose results its context holds (visibleSteps). */
  readonly #visible: (Iterable<number> | undefined)[] = [];
  /** Each step's result once settled (index = graph index). */
  readonly #results: (StepResult | undefined)[];
  /** Needs not yet settled, per step; for an expanded fanned step, its instances not yet settled. */
  readonly #pending: number[];
  /** 1 where a need (transitively) failed: what failure() answers. */
  readonly #failedUpstream: number[];
  readonly #rank: number[];
  readonly #ready: ReadyQueue;
  /** By node: the group a fanned step expanded into (at its own index, the gather) or belongs to (at an instance's). */
  readonly #groups: (FanGroup | undefined)[];
  /** Expanded groups whose gather has not settled: what halt() must stop. */
  readonly #active = new Set<FanGroup>();
  readonly #reused: ReadonlyMap<string, StepResult>;
  /** Aborted by halt(): every running attempt sees it. */
  readonly #stop = new AbortController();
  /**
   * What a step started after halt() runs under (its `if:` asked to run then: always(), cancelled()): not aborted
   * by the stop it runs after, only by the second Ctrl-C (killSignal).
   */
  readonly #afterStop: AbortSignal;
  #stopReason: StepError | undefined;
  #running = 0;
  #settledCount = 0;
  #jobFailed = false;
  #resolve: (outcome: SchedulerOutcome) => void = () => {};
  #jobTimer: NodeJS.Timeout | undefined;
  // The abort's reason, when it gives one as a StepError (the job's records could not be written), says why.
  readonly #onExternalAbort = () => this.#halt(isStepError(this.#o.signal.reason) ? this.#o.signal.reason : { code: 'cancelled', message: 'cancelled by signal' });
  /** The second Ctrl-C: steps queued to run after the stop (always(), cancelled()) do not start. */
  readonly #onKill = () => {
    const reason = this.#stopReason ?? { code: 'cancelled' as const, message: 'cancelled by signal' };
    this.#drain(this.#ready.drain().map((i): [number, StepResult] => [i, notStarted('cancelled', { code: 'cancelled', message: `not started: ${reason.message}` })]));
  };

  constructor(o: SchedulerOptions) {
    this.#o = o;
    const g = o.graph;
    // Copies of the outer arrays (O(steps)): expansion appends to them, and the caller's graph stays the spec's.
    this.#g = { ids: [...g.ids], index: new Map(g.index), needs: [...g.needs], children: [...g.children] };
    this.#foldedIds = new Set(g.ids.map((id) => id.toLowerCase()));
    this.#steps = [...o.spec.steps];
    const n = g.ids.length;
    this.#results = new Array(n);
    this.#pending = g.needs.map((x) => x.length);
    this.#failedUpstream = new Array<number>(n).fill(0);
    this.#rank = Array.from(o.rank);
    this.#groups = new Array<FanGroup | undefined>(n).fill(undefined);
    this.#ready = new ReadyQueue(this.#rank);
    this.#reused = o.reused ?? new Map<string, StepResult>();
    this.#afterStop = o.killSignal ?? new AbortController().signal;
    setMaxListeners(0, this.#stop.signal); // one listener per running step, legitimately many
  }

  /** Reused steps settle first, then every step with no unsettled needs is decided, then the queue runs. */
  run(): Promise<SchedulerOutcome> {
    const o = this.#o;
    return new Promise<SchedulerOutcome>((resolve) => {
      this.#resolve = resolve;
      o.signal.addEventListener('abort', this.#onExternalAbort, { once: true });
      o.killSignal?.addEventListener('abort', this.#onKill, { once: true });
      if (o.jobTimeoutMs !== undefined) {
        this.#jobTimer = setTimeout(() => {
          this.#jobFailed = true;
          this.#halt({ code: 'timeout', message: `job timed out after ${formatDuration(o.jobTimeoutMs!)}` });
        }, o.jobTimeoutMs);
      }
      const n = this.#g.ids.length;
      if (n === 0) return this.#finish();
      const initial: number[] = [];
      for (let i = 0; i < n; i++) if (this.#pending[i] === 0 && !this.#reused.has(this.#g.ids[i]!)) initial.push(i);
      // Looked up before any settles: settling expands fanned steps, whose reused instances settle then, once.
      const reusedSteps: [number, StepResult][] = [];
      for (const [id, r] of this.#reused) {
        const i = this.#g.index.get(id);
        if (i !== undefined) reusedSteps.push([i, r]);
      }
      for (const [i, r] of reusedSteps) this.#settle(i, r);
      for (const i of initial) {
        if (this.#results[i] || this.#pending[i]! > 0) continue;
        const work: [number, StepResult][] = [];
        this.#start(i, work);
        this.#drain(work);
      }
      this.#pump();
    });
  }

  #finish(): void {
    const o = this.#o;
    o.signal.removeEventListener('abort', this.#onExternalAbort);
    o.killSignal?.removeEventListener('abort', this.#onKill);
    clearTimeout(this.#jobTimer);
    const status = o.signal.aborted ? 'cancelled' : this.#jobFailed ? 'failed' : 'succeeded';
    this.#resolve({ status, results: this.#results as StepResult[] });
  }

  /** Stop the job: running attempts are aborted with `reason`, queued steps settle as cancelled. */
  #halt(reason: StepError): void {
    if (this.#stopReason) return;
    this.#stopReason = reason;
    this.#stop.abort(reason);
    const cancelled = notStarted('cancelled', { code: 'cancelled', message: `not started: ${reason.message}` });
    const work: [number, StepResult][] = [];
    // Queued steps are decided again: those whose `if:` runs them after a stop (always(), cancelled()) stay queued.
    const stay: number[] = [];
    for (const i of this.#ready.drain()) {
      const decided = this.#groups[i] && this.#groups[i]!.gather !== i ? cancelled : this.#decide(i);
      if (decided) work.push([i, decided]);
      else stay.push(i);
    }
    for (const i of stay) this.#ready.push(i);
    for (const group of this.#active) for (const i of group.stop(reason)) work.push([i, cancelled]);
    this.#drain(work);
  }

  /** Settle a step and release its children. */
  #settle(i: number, result: StepResult): void {
    this.#drain([[i, result]]);
  }

  /** Settle each step of the worklist and release its children; skips cascade through the worklist, never recursion. */
  #drain(work: [number, StepResult][]): void {
    const g = this.#g;
    while (work.length > 0) {
      const [i, found] = work.pop()!;
      const step = this.#stepAt(i);
      const recorded = this.#o.onSettled(step, found);
      // A succeeded step whose records could not be written fails with that; one that did not succeed keeps what it was.
      const result: StepResult = recorded?.fault && found.status === 'succeeded' ? { ...found, status: 'failed', error: recorded.fault } : found;
      this.#results[i] = result;
      this.#settledCount++;
      this.#emitFinal(step, result, recorded?.files);
      const group = this.#groups[i];
      // A step cancelled while neither the job nor its fan-out group was stopped (by something other than this run:
      // a worker of an older version that was stopped) never completed: it fails the job, continue_on_error or not.
      const unexplained = result.status === 'cancelled' && this.#stopReason === undefined && !group?.stopped;
      const failed = (result.status === 'failed' && !step.continueOnError) || unexplained;
      if (group?.gather === i) this.#active.delete(group);
      if (group && group.gather !== i) this.#afterInstance(group, i, failed, work);
      if (failed) {
        this.#jobFailed = true;
        if (this.#o.failFast) this.#halt({ code: 'cancelled', message: `job stopped after step "${step.id}" ${unexplained ? 'was cancelled' : 'failed'}` });
      }
      for (const c of g.children[i]!) {
        if (failed || this.#failedUpstream[i]) this.#failedUpstream[c] = 1;
        if (--this.#pending[c]! > 0 || this.#reused.has(g.ids[c]!)) continue;
        const expanded = this.#groups[c];
        if (expanded) work.push([c, expanded.gathered(this.#results)]);
        else this.#start(c, work);
      }
    }
    if (this.#settledCount === g.ids.length) this.#finish();
  }

  /** Step c's needs are settled: skip or cancel it (onto the worklist), expand it when fanned, else queue it. */
  #start(c: number, work: [number, StepResult][]): void {
    const decided = this.#decide(c);
    if (decided) work.push([c, decided]);
    else if (this.#steps[c]!.fan) this.#expand(c, work);
    else this.#ready.push(c);
  }

  /** An instance settled: free its max_parallel slot, stop its group on a failure with fail_fast. */
  #afterInstance(group: FanGroup, i: number, failed: boolean, work: [number, StepResult][]): void {
    if (group.isReleased(i)) group.done();
    if (failed && group.controller && !group.stopped) {
      const reason = { code: 'cancelled' as const, message: `fail_fast: instance "${this.#g.ids[i]}" failed` };
      for (const j of group.stop(reason)) work.push([j, notStarted('cancelled', { code: 'cancelled', message: `not started: ${reason.message}` })]);
    }
    for (const j of group.release()) this.#ready.push(j);
  }

  /**
   * Expand fanned step c (its needs have settled and its \`if:\` holds): evaluate for_each, plan the instances, append
   * them to the graph as nodes whose only child is c, and make c wait for them. Reused instances settle at once;
   * the others are released in instance order under max_parallel. A bad for_each value fails c (code \`expression\`).
   */
  #expand(c: number, work: [number, StepResult][]): void {
    const g = this.#g;
    const step = this.#steps[c]!;
    const fan = step.fan!;
    const base = this.#contextFor(c, false);
    const secrets = this.#o.secrets;
    const infos = planExpansion({ step, context: base, isTaken: (id) => this.#foldedIds.has(id.toLowerCase()), ...(secrets ? { redact: (text: string) => secrets.redact(text) } : {}) });
    if (!Array.isArray(infos)) {
      work.push([c, notStarted('failed', infos)]);
      return;
    }
    const group = new FanGroup({ gather: c, first: g.ids.length, infos, maxParallel: fan.maxParallel, failFast: fan.failFast, base });
    this.#groups[c] = group;
    if (infos.length === 0) {
      this.#emitExpanded(step, infos);
      work.push([c, group.gathered(this.#results)]);
      return;
    }
    this.#active.add(group);
    if (group.controller) {
      const controller = group.controller;
      this.#stop.signal.addEventListener('abort', () => controller.abort(this.#stop.signal.reason), { once: true, signal: controller.signal });
    }
    const toRun: string[] = [];
    const reusedNow: [number, StepResult][] = [];
    const first = appendInstances(g, c, infos.map((x) => x.id));
    for (const x of infos) this.#foldedIds.add(x.id.toLowerCase());
    for (let i = first; i < g.ids.length; i++) {
      this.#steps.push(undefined);
      this.#results.push(undefined);
      this.#pending.push(0);
      this.#failedUpstream.push(this.#failedUpstream[c]!);
      this.#rank.push(this.#rank[c]!);
      this.#groups[i] = group;
      const reused = this.#reusedInstance(g.ids[i]!, infos[i - first]!);
      if (reused) {
        reusedNow.push([i, reused]);
      } else {
        group.hold(i);
        toRun.push(g.ids[i]!);
      }
    }
    this.#pending[c] = infos.length;
    this.#emitExpanded(step, infos); // before any instance's event
    for (let k = reusedNow.length - 1; k >= 0; k--) work.push(reusedNow[k]!); // the worklist pops: instance order
    if (toRun.length > 0) this.#o.onExpanded?.(step, toRun);
    for (const i of group.release()) this.#ready.push(i);
  }

  /**
   * An earlier job's result of this instance, if it had the same values: ids follow values, but `1` and `"1"`, say,
   * make the same readable id in two jobs that each have only one of them.
   */
  #reusedInstance(id: string, info: InstanceInfo): StepResult | undefined {
    const reused = this.#reused.get(id);
    if (reused === undefined) return undefined;
    const recorded = this.#o.reusedValues?.get(id);
    // What was recorded is masked: so are the new values before they are compared.
    const secrets = this.#o.secrets;
    const values = secrets ? instanceValuesKey(secrets.redactValue(info.matrix), secrets.redactValue(info.item)) : instanceValuesKey(info.matrix, info.item);
    return recorded === undefined || recorded === values ? reused : undefined;
  }

  /** Step i; an instance's step is made when first needed (10,000 of them are not made at expansion). */
  #stepAt(i: number): StepSpec {
    const known = this.#steps[i];
    if (known) return known;
    const group = this.#groups[i]!;
    return (this.#steps[i] = instanceStep(this.#steps[group.gather]!, group.infos[i - group.first]!, this.#o.contexts.vars));
  }

  #emitExpanded(step: StepSpec, infos: InstanceInfo[]): void {
    const instances = infos.map((x) => ({ id: x.id, label: x.label, ...(x.matrix ? { matrix: x.matrix } : {}), ...('item' in x ? { item: x.item } : {}) }));
    this.#o.emit({ type: 'step.expanded', step: step.id, instances });
  }

  /** All needs of step i are settled: skip it, cancel it, or queue it (undefined). */
  #decide(i: number): StepResult | undefined {
    const step = this.#steps[i]!;
    // As in GitHub Actions, an `if:` without a status function still implies success(): only
    // always(), failure() or cancelled() let a step run after a need failed or was skipped, or after the job was
    // stopped (Ctrl-C, --fail-fast, its timeout), when nothing else starts.
    const condition = step.if === undefined ? undefined : parseCondition(step.if);
    const stopped = this.#stopReason ? notStarted('cancelled', { code: 'cancelled', message: `not started: ${this.#stopReason.message}` }) : undefined;
    if (stopped && (!condition?.hasStatusFunction || this.#afterStop.aborted)) return stopped;
    if (condition === undefined || !condition.hasStatusFunction) {
      for (const j of this.#g.needs[i]!) {
        const r = this.#results[j]!;
        if (!isOk(r, this.#steps[j]!)) return notStarted('skipped', { code: 'skipped', message: `need "${this.#steps[j]!.id}" ${r.status}` });
      }
      if (condition === undefined) return undefined;
    }
    let value: unknown;
    try {
      value = condition.evaluate(this.#contextFor(i, true));
    } catch (e) {
      return notStarted('failed', { code: 'expression', message: `if: ${(e as Error).message}` });
    }
    if (!isTruthy(value)) return stopped ?? notStarted('skipped', { code: 'skipped', message: `if: ${step.if!.trim()} was false` });
    return undefined;
  }

  /** What step i's expressions see: the base contexts and the results of the steps it (transitively) needs. */
  #contextFor(i: number, withStatus: boolean): EvalContext {
    const g = this.#g;
    const visible: Record<string, unknown> = {};
    for (const j of (this.#visible[i] ??= visibleSteps(g, i, this.#stepAt(i)))) {
      const r = this.#results[j]!;
      visible[g.ids[j]!] = r.results
        ? { status: r.status, outputs: r.outputs, text: r.text, exit_code: r.exitCode, results: r.results }
        : { status: r.status, outputs: r.outputs, text: r.text, exit_code: r.exitCode };
    }
    const context: EvalContext = { contexts: { ...this.#o.contexts, steps: visible } };
    if (withStatus) {
      context.status = {
        success: () => this.#stopReason === undefined && g.needs[i]!.every((j) => isOk(this.#results[j]!, this.#steps[j]!)),
        failure: () => this.#failedUpstream[i] === 1,
        cancelled: () => this.#stopReason !== undefined,
      };
    }
    return context;
  }

  /** Start ready steps, best rank first, while the concurrency limit allows. */
  #pump(): void {
    while (this.#running < this.#o.concurrency && this.#ready.size > 0) {
      const i = this.#ready.pop()!;
      const stopped = this.#groups[i]?.stopped;
      if (stopped && this.#groups[i]!.gather !== i) {
        this.#settle(i, notStarted('cancelled', { code: 'cancelled', message: `not started: ${stopped.message}` }));
        continue;
      }
      this.#running++;
      void this.#runStep(i)
        .catch((e: unknown): StepResult => {
          // A bug or an I/O failure around the step (not the step's own failure): record it, never hang the job.
          const error = { code: 'spawn' as const, message: `internal error: ${(e as Error)?.message ?? String(e)}` };
          return { ...notStarted('failed', error), attempts: 1 };
        })
        .then((result) => {
          this.#running--;
          this.#settle(i, result);
          this.#pump();
        });
    }
  }

  /** Every attempt of step i, with its contract check and retries, as one settled result. */
  async #runStep(i: number): Promise<StepResult> {
    const o = this.#o;
    const group = this.#groups[i];
    const signal = group?.controller?.signal ?? (this.#stopReason ? this.#afterStop : this.#stop.signal);
    const step = this.#stepAt(i);
    const started = Date.now();
    // A cached run step's key covers its needs' results (SPEC §11), whether or not its expressions read them.
    const context = group ? group.contextFor(i) : usesExpressions(step) || step.shellCache ? this.#contextFor(i, false) : EMPTY_CONTEXT;
    let attempt = 1;
    let lost = 0; // attempts whose worker was lost: not the step's fault, so not counted against its retry budget
    let lostInARow = 0;
    let last: AttemptResult;
    o.emit({ type: 'step.started', step: step.id, attempt });
    for (;;) {
      last = await o.execute(step, attempt, signal, context);
      if (last.status === 'succeeded' && o.checkContract) {
        const broken = o.checkContract(step, last.outputs);
        if (broken) last = { ...last, status: 'failed', error: broken, retryable: false };
      }
      if (last.error?.code === 'worker-lost' && !signal.aborted) {
        if (++lostInARow >= MAX_LOST_WORKERS) {
          last = { ...last, error: { ...last.error, message: `${last.error.message}: given up, ${MAX_LOST_WORKERS} attempts in a row lost their worker` } };
        } else {
          lost++;
          attempt++;
          o.emit({ type: 'step.retrying', step: step.id, attempt, delay_s: 0, error: { ...last.error, message: `${last.error.message}: the attempt is run again elsewhere` } });
          continue;
        }
      } else {
        lostInARow = 0;
      }
      if (last.status !== 'failed' || !last.retryable || attempt - lost >= step.retry.attempts || signal.aborted) break;
      const delay = retryDelayMs(step.retry, attempt + 1, last.retryAfterMs);
      attempt++;
      o.emit({ type: 'step.retrying', step: step.id, attempt, delay_s: delay / 1000, error: last.error! });
      await sleep(delay, signal);
      if (signal.aborted) {
        last = { ...last, status: 'cancelled', error: { code: 'cancelled', message: `cancelled before attempt ${attempt}` } };
        attempt--; // that attempt never ran
        break;
      }
    }
    const finished = Date.now();
    return {
      status: last.status,
      attempts: attempt,
      exitCode: last.exitCode,
      text: last.text,
      ...(last.textTruncated ? { textTruncated: true } : {}),
      outputs: last.outputs,
      error: last.status === 'succeeded' ? null : (last.error ?? { code: 'exit', message: 'failed' }),
      cached: last.cached ?? false,
      reused: false,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationS: (finished - started) / 1000,
      usage: last.usage,
      cacheKey: last.cacheKey,
      cacheKeyParts: last.cacheKeyParts,
      cacheSource: last.cacheSource,
      cacheWarnings: last.cacheWarnings,
      ...(last.logFile ? { logFile: last.logFile } : {}),
    };
  }

  /** The step's terminal event, with the files it left (from onSettled). */
  #emitFinal(step: StepSpec, r: StepResult, files: FileRecord[] | undefined): void {
    const emit = this.#o.emit;
    const base = { step: step.id, ...(files ? { files } : {}), ...(r.instances ? { instances: r.instances } : {}) };
    switch (r.status) {
      case 'succeeded':
        emit({ type: 'step.succeeded', ...base, attempt: r.attempts, exit_code: r.exitCode, duration_s: r.durationS ?? 0, cached: r.cached, reused: r.reused, ...truncation(r), ...(r.usage ? { usage: r.usage } : {}), ...cacheFields(r) });
        return;
      case 'failed':
        emit({ type: 'step.failed', ...base, attempt: r.attempts, exit_code: r.exitCode, duration_s: r.durationS ?? 0, error: r.error!, continue_on_error: step.continueOnError, ...truncation(r), ...(r.usage ? { usage: r.usage } : {}), ...cacheFields(r) });
        return;
      case 'skipped':
        emit({ type: 'step.skipped', step: step.id, ...(files ? { files } : {}), error: r.error! });
        return;
      case 'cancelled':
        emit({ type: 'step.cancelled', ...base, ...(r.attempts > 0 ? { attempt: r.attempts, duration_s: r.durationS ?? 0 } : {}), error: r.error! });
        return;
      case 'pending':
      case 'running':
        throw new Error(`step ${step.id} settled as ${r.status}`);
      default: {
        const never: never = r.status;
        throw new Error(`unknown status ${String(never)}`);
      }
    }
  }
}

const EMPTY_CONTEXT: EvalContext = { contexts: {} };

function isStepError(v: unknown): v is StepError {
  return typeof (v as StepError | null)?.code === 'string' && typeof (v as StepError).message === 'string';
}

/** `text_truncated: true` on a step whose text is only the start of its stdout; absent otherwise. */
function truncation(r: StepResult): { text_truncated?: true } {
  return r.textTruncated ? { text_truncated: true } : {};
}

/** An LLM step's cache key and its parts, where a hit came from, and its remote-cache problems, for its final event. */
function cacheFields(r: StepResult): { cache_key?: string; cache_key_parts?: Record<string, unknown>; cache_source?: CacheSource; cache_warnings?: string[] } {
  const where = { ...(r.cacheSource ? { cache_source: r.cacheSource } : {}), ...(r.cacheWarnings?.length ? { cache_warnings: r.cacheWarnings } : {}) };
  return r.cacheKey ? { cache_key: r.cacheKey, ...(r.cacheKeyParts ? { cache_key_parts: r.cacheKeyParts } : {}), ...where } : where;
}

function notStarted(status: 'skipped' | 'cancelled' | 'failed', error: StepError): StepResult {
  return { status, attempts: 0, exitCode: null, text: '', outputs: {}, error, cached: false, reused: false, startedAt: null, finishedAt: null, durationS: null };
}

/** A parsed `if:` (with or without `${{ }}`), parsed once per step. */
interface Condition {
  hasStatusFunction: boolean;
  evaluate(context: EvalContext): unknown;
}

const STATUS_FUNCTIONS = new Set(['success', 'failure', 'always', 'cancelled']);

function parseCondition(source: string): Condition {
  const exprs: Expr[] = [];
  let evaluateIt: (context: EvalContext) => unknown;
  if (!hasTemplate(source)) {
    const expr = parseExpression(source);
    exprs.push(expr);
    evaluateIt = (c) => evaluate(expr, c);
  } else {
    const parts = parseTemplate(source);
    for (const p of parts) if (p.kind === 'expr') exprs.push(p.expr);
    const only = parts.length === 1 ? parts[0] : undefined;
    evaluateIt = only?.kind === 'expr' ? (c) => evaluate(only.expr, c) : (c) => renderTemplate(parts, c);
  }
  const hasStatusFunction = exprs.some((e) => collectReferences(e).functions.some((f) => STATUS_FUNCTIONS.has(f.name)));
  return { hasStatusFunction, evaluate: evaluateIt };
}

/** Whether any field of the step holds an expression (only those steps pay for a context). */
export function usesExpressions(step: StepSpec): boolean {
  const fields = [step.run, step.prompt, step.system, step.model, step.cwd, ...Object.values(step.env)];
  return fields.some((f) => f !== undefined && hasTemplate(f));
}
