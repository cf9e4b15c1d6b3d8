// Steps hold file descriptors while they run (two pipes and a log each). Under a low `ulimit -n` a
// wide job runs out of them; rather than fail the steps that find none, a launcher lets them wait for
// the descriptors another step gives back when it ends (issue 14).

/** Whether an error means the process (EMFILE) or the system (ENFILE) is out of file descriptors. */
export function isOutOfDescriptors(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * Admits step starts while descriptors last. Unlimited until a start finds none; then at most three
 * quarters of the steps running at that moment hold descriptors at once (the rest is headroom for the
 * run folder's own files), and the others wait, in order, for one to end. Lowered again if need be;
 * never raised within a job.
 */
export class DescriptorGate {
  #running = 0;
  #limit = Infinity;
  readonly #waiting: (() => void)[] = [];
  #head = 0;

  /** Call `start` now, or once descriptors are given back; `start` must `release` its admission when it ends or gives up. */
  admit(start: () => void): void {
    this.#waiting.push(start);
    this.#admitWaiting();
  }

  /** An admitted start has given its descriptors back (its step ended, or it could not start). */
  release(): void {
    this.#running--;
    this.#admitWaiting();
  }

  /**
   * An admitted start found no descriptor (it has released its admission): lower the limit below what
   * runs now. False when nothing runs: no descriptor will come back to wait for.
   */
  exhausted(): boolean {
    if (this.#running === 0) return false;
    this.#limit = Math.min(this.#limit, Math.max(1, Math.floor(this.#running * 0.75)));
    return true;
  }

  #admitWaiting(): void {
    while (this.#head < this.#waiting.length && this.#running < this.#limit) {
      const start = this.#waiting[this.#head++]!;
      if (this.#head === this.#waiting.length) this.#waiting.length = this.#head = 0; // O(1) a start, no shifting
      this.#running++;
      start();
    }
  }
}
