import fs from 'node:fs';
import type { RunDir } from './run-dir.js';

/** Files created ahead at most this many at a time (the thread pool has four threads). */
const IN_FLIGHT = 3;

/**
 * Creates each step's `outputs/<id>.json` and `artifacts/<id>/` ahead of time, in the likely order of
 * the run, on the thread pool. Creating a file is the dearest file operation on many disks (a new
 * inode and a directory entry); done here, it is off the critical path of the steps, which then only
 * rewrite files that exist. (A step's log is created by its first byte of output: see startProcess.)
 * The steps that start at once get theirs here and now: the pool's first job would come later.
 */
export class StepFilePrefetcher {
  readonly #runDir: RunDir;
  readonly #queue: string[];
  #next = 0;
  #active = 0;
  readonly #done = new Map<string, Promise<void>>();

  /** `startNow`: how many of `likelyOrder` start as soon as the job does. */
  constructor(runDir: RunDir, likelyOrder: readonly string[], startNow: number) {
    this.#runDir = runDir;
    this.#queue = [...likelyOrder];
    for (; this.#next < Math.min(startNow, this.#queue.length); this.#next++) {
      const id = this.#queue[this.#next]!;
      try {
        fs.mkdirSync(runDir.artifactsDir(id), { recursive: true });
        fs.closeSync(fs.openSync(runDir.outputPath(id), 'a'));
        this.#done.set(id, Promise.resolve());
      } catch (e) {
        this.#done.set(id, observed(Promise.reject(e))); // the step fails with it (a full disk): see ready()
      }
    }
    this.#pump();
  }

  /** Steps that became known while the job runs (the instances of a fanned step): made ahead, in this order. */
  add(ids: readonly string[]): void {
    for (const id of ids) this.#queue.push(id);
    this.#pump();
  }

  /** Resolves when the step's files exist: at once if they were made ahead, else made now; rejects with the file-system error that stopped that. */
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
    const removeIfEmpty = () => new Promise<void>((resolve) => fs.rmdir(dir.artifactsDir(id), () => resolve())); // only if empty
    this.#done.set(id, observed(made.then(removeIfEmpty)));
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
      void this.#create(id)
        .catch(() => {}) // seen by ready() and settle(), which the step and the job await
        .finally(() => {
          this.#active--;
          this.#pump();
        });
    }
  }

  #create(id: string): Promise<void> {
    const dir = this.#runDir;
    // The callback API: fs.promises alone costs a millisecond of start-up to load.
    // Not recursive: artifacts/ is made with the run folder, and a recursive mkdir costs the thread pool twice as much.
    // One there already (a worker's scratch folder kept for its next step) is as good as a new one.
    const mkdir = new Promise<void>((resolve, reject) => fs.mkdir(dir.artifactsDir(id), (e) => (e && e.code !== 'EEXIST' ? reject(e) : resolve())));
    // 'a' creates the file when missing and never truncates what may already be there.
    const touch = new Promise<void>((resolve, reject) =>
      fs.open(dir.outputPath(id), 'a', (e, fd) => (e ? reject(e) : fs.close(fd, (e2) => (e2 ? reject(e2) : resolve())))),
    );
    const made = observed(Promise.all([mkdir, touch]).then(() => undefined));
    this.#done.set(id, made);
    return made;
  }
}

/** The same promise, marked as handled: its rejection reaches whoever awaits it, and is no unhandled rejection meanwhile. */
function observed<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}
