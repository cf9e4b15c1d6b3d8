import fs from 'node:fs';
import type { RunDir } from './run-dir.js';

/** Files created ahead at most this many at a time (the thread pool has four threads). */
const IN_FLIGHT = 3;

/**
 * Creates each step's `outputs/<id>.json` and `artifacts/<id>/` ahead of time, in the likely order of
 * the run, on the thread pool. Creating a file is the dearest file operation on many disks (a new
 * inode and a directory entry); done here, it is off the critical path of the steps, which then only
 * rewrite files that exist. (A step's log is created by its first byte of output: see startProcess.)
 */
export class StepFilePrefetcher {
  readonly #runDir: RunDir;
  readonly #queue: string[];
  #next = 0;
  #active = 0;
  readonly #done = new Map<string, Promise<void>>();

  constructor(runDir: RunDir, likelyOrder: readonly string[]) {
    this.#runDir = runDir;
    this.#queue = [...likelyOrder];
    this.#pump();
  }

  /** Resolves when the step's files exist: at once if they were made ahead, else made now. */
  ready(id: string): Promise<void> {
    return this.#done.get(id) ?? this.#create(id);
  }

  /** A step that never ran (skipped, cancelled before it started): no empty artifacts folder is left for it. */
  discard(id: string): void {
    const made = this.#done.get(id);
    if (!made) {
      this.#done.set(id, Promise.resolve()); // never created
      return;
    }
    const dir = this.#runDir;
    const removeIfEmpty = () => fs.promises.rmdir(dir.artifactsDir(id)).catch(() => undefined); // only if empty
    this.#done.set(id, made.then(removeIfEmpty));
  }

  /** Wait for everything under way (before the run folder is listed). */
  async settle(): Promise<void> {
    this.#next = this.#queue.length; // nothing new
    await Promise.all(this.#done.values());
  }

  #pump(): void {
    while (this.#active < IN_FLIGHT && this.#next < this.#queue.length) {
      const id = this.#queue[this.#next++]!;
      if (this.#done.has(id)) continue;
      this.#active++;
      void this.#create(id).finally(() => {
        this.#active--;
        this.#pump();
      });
    }
  }

  #create(id: string): Promise<void> {
    const dir = this.#runDir;
    // 'a' creates the file when missing and never truncates what may already be there.
    const touch = (file: string) => fs.promises.open(file, 'a').then((h) => h.close());
    const made = Promise.all([fs.promises.mkdir(dir.artifactsDir(id), { recursive: true }), touch(dir.outputPath(id))]).then(() => undefined);
    this.#done.set(id, made);
    return made;
  }
}
