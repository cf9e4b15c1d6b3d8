import type { StepError } from '../errors.js';
import type { GatheredResult, StepResult } from '../events/step-result.js';
import type { InstanceCounts } from '../events/types.js';
import { evaluate, parseTemplate, type EvalContext } from '../expr/index.js';
import { describeShape, planInstances } from '../graph/instances.js';
import type { InstanceInfo, StepSpec } from '../specfile/model.js';

/**
 * The instances of fanned step `step` now that its needs have settled: its for_each evaluated in `context` (the
 * step's own) and checked, times its matrix. A bad value is the step's failure (code `expression`, with the
 * value's shape), never an exception.
 */
export function planExpansion(o: { step: StepSpec; context: EvalContext; isTaken: (id: string) => boolean; redact?: (text: string) => string }): InstanceInfo[] | StepError {
  const forEach = o.step.fan!.forEach;
  let items: unknown[] | undefined;
  if (forEach !== undefined) {
    let value: unknown;
    try {
      // validate made sure the field is exactly one ${{ expr }}
      const only = parseTemplate(forEach).find((p) => p.kind === 'expr');
      value = only?.kind === 'expr' ? evaluate(only.expr, o.context) : null;
    } catch (e) {
      return { code: 'expression', message: `for_each: ${(e as Error).message}` };
    }
    if (!Array.isArray(value)) return { code: 'expression', message: `for_each: expected an array, got ${describeShape(value, o.redact)}` };
    items = value;
  }
  const infos = planInstances({ step: o.step, items, isTaken: o.isTaken, ...(o.redact ? { redact: o.redact } : {}) });
  return Array.isArray(infos) ? infos : { code: 'expression', message: `for_each: ${infos.error}` };
}

/**
 * One fanned step once expanded: its instances are graph nodes `first … first + size - 1` (appended together),
 * and the fanned step's own node is their gather, which settles when they all have. The group releases its
 * instances into the ready queue in instance order, at most `max_parallel` at a time, and with `fail_fast`
 * stops them all at the first failure.
 */
export class FanGroup {
  readonly gather: number;
  readonly first: number;
  readonly infos: InstanceInfo[];
  readonly startedAt = Date.now();
  /** Aborted by fail_fast or by the job's stop; undefined when neither can stop this group alone. */
  readonly controller: AbortController | undefined;
  readonly #limit: number;
  readonly #base: EvalContext;
  /** Instance nodes not released yet, in instance order. */
  readonly #waiting: number[] = [];
  #next = 0;
  #inFlight = 0;
  readonly #released: Uint8Array;
  /** Why the group stopped (fail_fast, or the job's halt), if it did. */
  stopped: StepError | undefined;

  constructor(o: { gather: number; first: number; infos: InstanceInfo[]; maxParallel?: number; failFast: boolean; base: EvalContext }) {
    this.gather = o.gather;
    this.first = o.first;
    this.infos = o.infos;
    this.#limit = o.maxParallel ?? Infinity;
    this.#base = o.base;
    this.controller = o.failFast ? new AbortController() : undefined;
    this.#released = new Uint8Array(o.infos.length);
  }

  get size(): number {
    return this.infos.length;
  }

  /** What instance node `i`'s expressions see: the fanned step's context plus matrix, item and item_index. */
  contextFor(i: number): EvalContext {
    const info = this.infos[i - this.first]!;
    return { contexts: { ...this.#base.contexts, matrix: info.matrix ?? {}, item: info.item ?? null, item_index: info.itemIndex ?? null } };
  }

  /** An instance to run when its turn comes. */
  hold(i: number): void {
    this.#waiting.push(i);
  }

  /** Instances that may enter the ready queue now (max_parallel less those already released and unsettled). */
  release(): number[] {
    const out: number[] = [];
    while (!this.stopped && this.#inFlight < this.#limit && this.#next < this.#waiting.length) {
      const i = this.#waiting[this.#next++]!;
      this.#released[i - this.first] = 1;
      out.push(i);
      this.#inFlight++;
    }
    return out;
  }

  /** A released instance settled: its slot is free. */
  done(): void {
    this.#inFlight--;
  }

  /** Stop the group: returns the instances never released, which the caller settles as cancelled. */
  stop(reason: StepError): number[] {
    if (this.stopped) return [];
    this.stopped = reason;
    this.controller?.abort(reason);
    const left = this.#waiting.slice(this.#next);
    this.#next = this.#waiting.length;
    return left;
  }

  /** Whether instance node i was released into the ready queue (reused and never-released ones were not). */
  isReleased(i: number): boolean {
    return this.#released[i - this.first] === 1;
  }

  /** The gather's result: every instance in order; failed when one failed, else cancelled when one was cancelled. */
  gathered(results: readonly (StepResult | undefined)[]): StepResult {
    const counts: InstanceCounts = {};
    const gatheredResults: GatheredResult[] = [];
    let firstFailed: { id: string; error: StepError } | undefined;
    for (let k = 0; k < this.infos.length; k++) {
      const r = results[this.first + k]!;
      const info = this.infos[k]!;
      const status = r.status as keyof InstanceCounts;
      counts[status] = (counts[status] ?? 0) + 1;
      if (r.status === 'failed') firstFailed ??= { id: info.id, error: r.error! };
      gatheredResults.push({ id: info.id, status: r.status, outputs: r.outputs, text: r.text, exit_code: r.exitCode, matrix: info.matrix ?? null, item: info.item ?? null });
    }
    const finished = Date.now();
    const n = this.infos.length;
    let status: StepResult['status'] = 'succeeded';
    let error: StepError | null = null;
    if (firstFailed) {
      // With continue_on_error (which its instances share) a failed fanned step lets its dependents run.
      status = 'failed';
      error = { code: firstFailed.error.code, message: `${counts.failed} of ${n} instances failed; first ${firstFailed.id}: ${firstFailed.error.message}` };
    } else if (counts.cancelled) {
      status = 'cancelled';
      error = { code: 'cancelled', message: `${counts.cancelled} of ${n} instances cancelled${this.stopped ? `: ${this.stopped.message}` : ''}` };
    }
    return {
      status,
      attempts: 0,
      exitCode: null,
      text: '',
      outputs: {},
      error,
      cached: false,
      reused: false,
      startedAt: new Date(this.startedAt).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationS: (finished - this.startedAt) / 1000,
      results: gatheredResults,
      instances: counts,
    };
  }
}
