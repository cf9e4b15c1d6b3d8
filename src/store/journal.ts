import fs from 'node:fs';
import type { EventSink, RunEvent } from '../events/types.js';

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

/** Read a journal; a torn last line (a crash mid-write) is ignored, any other bad line is an error. */
export function readJournal(file: string): RunEvent[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const events: RunEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw new Error(`${file}:${i + 1}: not a JSON line`);
    }
  });
  return events;
}
