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
  return new JournalReader(file).read();
}

/**
 * The whole lines a growing file (a journal) gained since the last call: a line is whole once its newline is
 * written; what follows the last newline is handed over too, as the file's unended `rest`, and read again next
 * time. A file cut back below what was taken is read again from its start (`restarted`).
 */
export class LineTail {
  readonly #file: string;
  /** Bytes of whole lines taken. */
  #offset = 0;

  constructor(file: string) {
    this.#file = file;
  }

  next(): { lines: string[]; rest: string; restarted: boolean } {
    const fd = fs.openSync(this.#file, 'r');
    let bytes: Buffer;
    let restarted = false;
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.#offset) {
        this.#offset = 0;
        restarted = true;
      }
      bytes = Buffer.alloc(size - this.#offset);
      let n = 0;
      while (n < bytes.length) {
        const got = fs.readSync(fd, bytes, n, bytes.length - n, this.#offset + n);
        if (got === 0) break;
        n += got;
      }
      bytes = bytes.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
    // Whole lines end in a newline byte, which never falls inside a UTF-8 character.
    const whole = bytes.lastIndexOf(0x0a) + 1;
    this.#offset += whole;
    const lines = bytes.subarray(0, whole).toString('utf8').split('\n');
    lines.pop(); // what follows the last newline: nothing
    return { lines, rest: bytes.subarray(whole).toString('utf8'), restarted };
  }

  /** Take the file again from its start. */
  restart(): void {
    this.#offset = 0;
  }
}

/**
 * A journal read as it grows (the web app watching a running job): each `read` parses and checks only the whole
 * lines appended since the last, and returns every event so far, as readJournal would. An unended last line is
 * looked at each time, as the journal's end, and taken once it ends. A journal cut back (the writer cuts a line a
 * failed write left torn) is read again from where it now ends, or from its start.
 */
export class JournalReader {
  readonly #tail: LineTail;
  #lines = 0;
  /** A whole line that is not JSON: an error once anything follows it, else the torn end of the journal. */
  #badLine: number | undefined;
  #events: RunEvent[] = [];

  constructor(file: string) {
    this.#tail = new LineTail(file);
  }

  /** Every event of the journal so far (a new array); throws as readJournal does, and then starts over on the next call. */
  read(): RunEvent[] {
    try {
      return this.#read();
    } catch (e) {
      this.#reset();
      this.#tail.restart();
      throw e;
    }
  }

  #read(): RunEvent[] {
    const { lines, rest, restarted } = this.#tail.next();
    if (restarted) this.#reset();
    for (const line of lines) {
      this.#lines++;
      if (line.trim() === '') continue;
      const event = this.#check(line, this.#lines, false);
      if (event) this.#events.push(event);
    }
    const last = rest.trim() === '' ? undefined : this.#check(rest, this.#lines + 1, true);
    return last ? [...this.#events, last] : [...this.#events];
  }

  /** A line's event; undefined for one that is not JSON, which is an error once something follows it. */
  #check(line: string, n: number, isEnd: boolean): RunEvent | undefined {
    if (this.#badLine !== undefined) throw new Error(`line ${this.#badLine} is not a JSON event`);
    const parsed = parseUntrustedJson(line);
    if ('error' in parsed) {
      if (!isEnd) this.#badLine = n;
      return undefined;
    }
    const checked = checkEvent(parsed.value);
    if ('problem' in checked) throw new Error(`line ${n}: ${checked.problem}`);
    return checked.event;
  }

  #reset(): void {
    this.#lines = 0;
    this.#badLine = undefined;
    this.#events = [];
  }
}
