import fs from 'node:fs';
import type { EventSink, RunEvent } from '../events/types.js';
import { parseUntrustedJson } from '../util/json.js';
import { checkEvent } from './record-schema.js';

/** events.jsonl: each event is one append (one write call) as it happens, so a crash loses nothing already emitted. */
export class Journal implements EventSink {
  readonly #fd: number;

  /** Events reach it already masked (see EventBus). */
  constructor(file: string) {
    this.#fd = fs.openSync(file, 'a');
  }

  emit(event: RunEvent): void {
    fs.writeSync(this.#fd, JSON.stringify(event) + '\n');
  }

  /** Flush to disk and close (at the end of a job): on the thread pool, while the manifest is written. */
  close(): Promise<void> {
    return new Promise((resolve, reject) =>
      fs.fsync(this.#fd, (e) => {
        fs.close(this.#fd, (e2) => (e ?? e2 ? reject(e ?? e2) : resolve()));
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
