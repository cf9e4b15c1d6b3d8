import fs from 'node:fs';
import type { EventSink, RunEvent, StepError } from '../events/types.js';
import { ioFault, isIoError, tryWrite } from './io-fault.js';
import { parseUntrustedJson } from '../util/json.js';
import { checkEvent } from './record-schema.js';

/** events.jsonl: each event is one append (one write call) as it happens, so a crash loses nothing already emitted. */
export class Journal implements EventSink {
  readonly #fd: number;
  readonly #file: string;
  readonly #onFault: (fault: StepError) => void;
  /** Bytes of whole lines written: after a write cut short, the file is cut back to this. */
  #size = 0;
  #broken = false;

  /**
   * Events reach it already masked (see EventBus). A write that fails or is cut short (a full disk, a deleted
   * run folder) is reported once to `onFault`, the file is cut back to its last whole line, and nothing more is
   * appended until `resume()`.
   */
  constructor(file: string, onFault: (fault: StepError) => void) {
    this.#fd = fs.openSync(file, 'a');
    this.#file = file;
    this.#onFault = onFault;
  }

  emit(event: RunEvent): void {
    if (this.#broken) return;
    const line = Buffer.from(JSON.stringify(event) + '\n');
    let written = 0;
    const fault = tryWrite(this.#file, () => {
      written = fs.writeSync(this.#fd, line);
      if (written < line.length) throw Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
    });
    if (!fault) {
      this.#size += written;
      return;
    }
    this.#broken = true;
    if (written > 0) tryWrite(this.#file, () => fs.ftruncateSync(this.#fd, this.#size)); // a torn line would end the journal's readable part
    this.#onFault(fault);
  }

  /** Append again after a fault (the job freed its reserve for its last records). */
  resume(): void {
    this.#broken = false;
  }

  /** Flush to disk and close (at the end of a job): on the thread pool, while the manifest is written. A failure is a fault, as for emit. */
  close(): Promise<void> {
    return new Promise((resolve) =>
      fs.fsync(this.#fd, (e) => {
        fs.close(this.#fd, (e2) => {
          const err = e ?? e2;
          if (err && !this.#broken) this.#onFault(isIoError(err) ? ioFault(err, this.#file) : { code: 'io', message: `cannot write ${this.#file}: ${(err as Error).message}` });
          resolve();
        });
      }),
    );
  }
}

/**
 * Read a journal; a torn last line (a crash or a full disk mid-write) is ignored, any other bad line is an
 * error naming the line and what is wrong with it (never what it says), as is an event of the wrong shape.
 */
export function readJournal(file: string): RunEvent[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const events: RunEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const parsed = parseUntrustedJson(line);
    if ('error' in parsed) {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw new Error(`line ${i + 1} is not a JSON event`);
      return;
    }
    const checked = checkEvent(parsed.value);
    if ('problem' in checked) throw new Error(`line ${i + 1}: ${checked.problem}`);
    events.push(checked.event);
  });
  return events;
}
