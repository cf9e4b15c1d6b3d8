// The journals of running jobs that this server's pages watch, each read as it grows: a running job's page is
// rendered again while events keep coming, and reading its whole journal each time costs ~0.3 s at 10,000 instances.
import path from 'node:path';
import { JournalReader } from '../store/journal.js';

/** Readers kept at most: pages of more running jobs than this at once read a journal whole again now and then. */
const MAX_READERS = 16;

/** A JournalReader per job folder, the least recently asked dropped first. */
export class WatchedJournals {
  readonly #readers = new Map<string, JournalReader>();

  /** The reader of the journal in run folder `dir`. */
  of(dir: string): JournalReader {
    let reader = this.#readers.get(dir);
    if (reader) this.#readers.delete(dir); // to the end: the most recently asked
    else reader = new JournalReader(path.join(dir, 'events.jsonl'));
    this.#readers.set(dir, reader);
    if (this.#readers.size > MAX_READERS) this.#readers.delete(this.#readers.keys().next().value!);
    return reader;
  }

  /** A job that no longer runs: its journal will not grow, and its page is not rendered again. */
  drop(dir: string): void {
    this.#readers.delete(dir);
  }
}
