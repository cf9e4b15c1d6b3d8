// A job's events.jsonl read as it grows, for the end of one step or of the job: what `show --logs --follow` and the
// web app's log stream wait for, without replaying the whole journal each time they look.
import { LineTail } from './journal.js';

/** Events after which a step writes nothing more to its log. */
const STEP_ENDS = new Set(['step.succeeded', 'step.failed', 'step.skipped', 'step.cancelled']);

/** What the journal said has ended. */
export type JournalEnd = 'step-ended' | 'job-ended';

/** Reads events.jsonl as it grows, looking for the end of one step or of the job. */
export class JournalWatch {
  readonly #tail: LineTail;
  readonly #step: string;
  #end: JournalEnd | undefined;

  constructor(file: string, step: string) {
    this.#tail = new LineTail(file);
    this.#step = step;
  }

  /** `step-ended` or `job-ended` once the journal says so (and from then on, without reading it again), else undefined. */
  readEnd(): JournalEnd | undefined {
    if (this.#end) return this.#end;
    let end: JournalEnd | undefined;
    for (const line of this.#tail.next().lines) {
      let e: { type?: unknown; step?: unknown };
      try {
        e = JSON.parse(line) as { type?: unknown; step?: unknown };
      } catch {
        continue; // a torn line of a killed writer: readers of the journal skip it too
      }
      if (e.type === 'job.finished') end ??= 'job-ended';
      else if (e.step === this.#step && typeof e.type === 'string' && STEP_ENDS.has(e.type)) end ??= 'step-ended';
    }
    this.#end = end;
    return end;
  }
}
