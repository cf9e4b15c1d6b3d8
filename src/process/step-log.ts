import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { StepError } from '../events/types.js';
import { tryWrite } from '../store/io-fault.js';
import type { Redactor } from '../store/redact.js';

/**
 * A step's log, created at its first byte: a step that prints nothing has no log. Creating a file is the
 * dearest thing a step does to the disk (on ext4 without a journal, each creation scans past every inode
 * freed in the last 30 s), and most steps of a large DAG print nothing.
 *
 * The descriptor it will need is held from the start (on /dev/null, which costs nothing to open): a step
 * that runs out of descriptors does so when it starts, where it can wait for them (DescriptorGate), never
 * in the middle of its output.
 */
export class StepLog {
  readonly #path: string;
  readonly #append: boolean;
  readonly #onFault: (fault: StepError) => void;
  #reserved: number | undefined;
  #fd: number | undefined;
  #fault: StepError | undefined;

  /**
   * `append`: a later attempt adds to the log under a header; the first one starts it anew. Throws EMFILE when
   * no descriptor is left. The first write that fails (disk-full, io) is told to `onFault`; later ones are dropped.
   */
  constructor(file: string, append: boolean, onFault: (fault: StepError) => void) {
    this.#path = file;
    this.#append = append;
    this.#onFault = onFault;
    this.#reserved = fs.openSync('/dev/null', 'r');
  }

  write(data: Uint8Array | string): void {
    if (this.#fault) return;
    this.#fault = tryWrite(this.#path, () => {
      if (this.#fd === undefined) {
        this.#release();
        this.#fd = fs.openSync(this.#path, this.#append ? 'a' : 'w');
      }
      if (typeof data === 'string') fs.writeSync(this.#fd, data);
      else fs.writeSync(this.#fd, data);
    });
    if (this.#fault) this.#onFault(this.#fault);
  }

  /** Close it; the write fault, if there was one (a close can fail too, on some file systems). */
  close(): StepError | undefined {
    this.#release();
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) this.#fault ??= tryWrite(this.#path, () => fs.closeSync(fd));
    return this.#fault;
  }

  #release(): void {
    if (this.#reserved !== undefined) fs.closeSync(this.#reserved);
    this.#reserved = undefined;
  }
}

/**
 * What one of a step's streams writes to its log: the bytes as they come, or, when there are secrets,
 * text with each secret masked. Characters are decoded across chunks (a `€` split between two reads
 * stays one `€`), and a tail that could start a secret is held back until the next chunk: only such a tail, so
 * that what one stream prints is not held back behind what the other prints next (the log keeps their order).
 */
export function logWriter(log: StepLog, redactor: Redactor): { write: (chunk: Buffer) => void; end: () => void } {
  if (!redactor.isActive) return { write: (chunk) => log.write(chunk), end: () => {} };
  const decoder = new StringDecoder('utf8');
  let carry = '';
  return {
    write: (chunk) => {
      const safe = redactor.redact(carry + decoder.write(chunk));
      let cut = safe.length - redactor.startOfSecretAtEnd(safe); // hold back a tail that could start a secret
      if (cut > 0 && isHighSurrogate(safe.charCodeAt(cut - 1))) cut--; // and never half of a 😀
      if (cut > 0) log.write(safe.slice(0, cut));
      carry = safe.slice(cut);
    },
    end: () => {
      // A step that stopped in the middle of a secret (cancelled, or it printed only the start): its start is masked too.
      const rest = redactor.redactCut(carry + decoder.end(), 4);
      if (rest) log.write(rest);
      carry = '';
    },
  };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
