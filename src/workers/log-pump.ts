// A worker's side of an attempt's log: the step writes its log file as it would locally (masked, with the
// attempt's header); this reads what was added, every 100 ms and once more at the end, and sends it on.
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import type { LogPiece } from './protocol.js';

/** Largest chunk sent as one stream entry. */
const CHUNK_BYTES = 64 * 1024;
const POLL_MS = 100;

/** Follows a growing file and hands each new piece to `send`, in order, one at a time. */
export class LogPump {
  readonly #file: string;
  readonly #send: (piece: LogPiece) => Promise<void>;
  #offset = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> = Promise.resolve();

  constructor(file: string, send: (piece: LogPiece) => Promise<void>) {
    this.#file = file;
    this.#send = send;
    this.#timer = setInterval(() => void this.#drain(), POLL_MS);
  }

  /** Send the rest and stop. */
  async finish(): Promise<void> {
    clearInterval(this.#timer);
    await this.#drain();
  }

  #drain(): Promise<void> {
    this.#busy = this.#busy.then(() => this.#readNew());
    return this.#busy;
  }

  async #readNew(): Promise<void> {
    let fd: number;
    try {
      fd = fs.openSync(this.#file, 'r');
    } catch {
      return; // no output yet: the log is created by the first byte
    }
    try {
      const buffer = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        const n = fs.readSync(fd, buffer, 0, CHUNK_BYTES, this.#offset);
        if (n === 0) return;
        // A chunk cut inside a UTF-8 character waits for the rest of it.
        const end = n === CHUNK_BYTES ? completeUtf8(buffer, n) : n;
        this.#offset += end;
        const piece = buffer.subarray(0, end);
        await this.#send(isUtf8(piece) ? { data: piece.toString('utf8') } : { data: piece.toString('base64'), encoding: 'base64' });
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** How many of the first `n` bytes end on a whole UTF-8 character. */
function completeUtf8(b: Buffer, n: number): number {
  let i = n - 1;
  while (i >= 0 && n - i <= 4 && (b[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return n;
  const lead = b[i]!;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return i + size <= n ? n : i;
}
