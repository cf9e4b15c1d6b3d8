// A job's events.jsonl read as it grows, for the end of one step or of the job: what `show --logs --follow` and the
// web app's log stream wait for, without replaying the whole journal each time they look.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Bytes read from the journal at a time. */
const CHUNK_BYTES = 64 * 1024;
/** Events after which a step writes nothing more to its log. */
const STEP_ENDS = new Set(['step.succeeded', 'step.failed', 'step.skipped', 'step.cancelled']);

/** What the journal said has ended. */
export type JournalEnd = 'step-ended' | 'job-ended';

/** Reads events.jsonl as it grows, looking for the end of one step or of the job. */
export class JournalWatch {
  readonly #file: string;
  readonly #step: string;
  #offset = 0;
  #partial = '';
  #end: JournalEnd | undefined;
  // A poll can end inside a character the writer has half written.
  readonly #decoder = new StringDecoder('utf8');

  constructor(file: string, step: string) {
    this.#file = file;
    this.#step = step;
  }

  /** `step-ended` or `job-ended` once the journal says so (and from then on, without reading it again), else undefined. */
  readEnd(): JournalEnd | undefined {
    if (this.#end) return this.#end;
    const text = this.#readNew();
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    let end: JournalEnd | undefined;
    for (const line of lines) {
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

  #readNew(): string {
    const fd = fs.openSync(this.#file, 'r');
    try {
      let text = '';
      const buf = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, this.#offset);
        if (n === 0) return text;
        text += this.#decoder.write(buf.subarray(0, n));
        this.#offset += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
