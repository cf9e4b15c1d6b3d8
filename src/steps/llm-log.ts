import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import type { FileRecord } from '../events/types.js';
import type { Redactor } from '../store/redact.js';

/**
 * logs/<step>.log of an LLM step: the request (never the key) and the response, secrets masked. What is written
 * between two waits reaches the file in one write (`flush`, before each wait, and `close`): a write is a system call.
 */
export class LlmLog {
  readonly #fd: Promise<number>;
  readonly #redactor: Redactor;
  readonly #tally: LogTally | undefined;
  #pending = '';

  /** Attempt 1 starts the file afresh; a later one appends after a blank line. `tally` is told every byte written. */
  constructor(file: string, attempt: number, redactor: Redactor, tally: LogTally | undefined) {
    // Made on the thread pool while the cache is read: creating a file is the dearest part of a cached attempt,
    // and on the main thread it held up every other step. Its error (a full disk) comes out of flush and close.
    this.#fd = new Promise((resolve, reject) => fs.open(file, attempt === 1 ? 'w' : 'a', (e, fd) => (e ? reject(e) : resolve(fd))));
    this.#fd.catch(() => {});
    this.#redactor = redactor;
    this.#tally = tally;
    if (attempt > 1) this.#pending = '\n';
  }

  /** Masked piece by piece, as it is given: a mask never depends on where the writes fall. */
  write(text: string): void {
    this.#pending += this.#redactor.redact(text);
  }

  /** Put what was written so far into the file (before a wait that `show --logs --follow` may watch). */
  async flush(): Promise<void> {
    const fd = await this.#fd;
    if (this.#pending === '') return;
    const bytes = Buffer.from(this.#pending);
    this.#pending = '';
    this.#tally?.add(bytes, fs.writeSync(fd, bytes));
  }

  /** Flush, then close the file. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      fs.closeSync(await this.#fd);
    }
  }
}

/**
 * The SHA-256 and size of the bytes an LLM step's log was given, attempt after attempt: the step's record takes
 * them instead of reading the file back. A write cut short (a full disk) makes it unknown: the file is read then.
 */
export class LogTally {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #isWhole = true;

  /** `bytes` were given to the log, of which `written` reached it. */
  add(bytes: Buffer, written: number): void {
    if (written !== bytes.length) this.#isWhole = false;
    this.#hash.update(bytes);
    this.#size += bytes.length;
  }

  /** The log's FileRecord; undefined when a write was cut short. */
  record(rel: string): FileRecord | undefined {
    return this.#isWhole ? { path: rel, sha256: this.#hash.copy().digest('hex'), size_bytes: this.#size } : undefined;
  }
}
