import { evalError } from './errors.js';

/** GitHub caps the memory one evaluation may use at 1 MiB; strings count 2 bytes per UTF-16 unit. */
export const MAX_MEMORY_BYTES = 1024 * 1024;

/** The string budget of one evaluation: functions that build strings charge it before they grow. */
export class MemoryBudget {
  #used = 0;

  /** Charge `chars` characters; throws an evaluation ExpressionError at `pos` when over budget. */
  charge(chars: number, pos: number): void {
    this.#used += chars * 2;
    if (this.#used > MAX_MEMORY_BYTES) throw evalError('The maximum allowed memory size was exceeded', pos);
  }
}
