import { toStr } from './coerce.js';
import { evalError } from './errors.js';
import type { MemoryBudget } from './memory.js';

/**
 * format('{0} and {1}', a, b): `{N}` is replaced by argument N as a string, `{{` and `}}` are
 * literal braces; any other brace, or a reference past the last argument, is an evaluation error.
 */
export function formatString(args: readonly unknown[], memory: MemoryBudget, pos: number): string {
  const fmt = toStr(args[0]);
  const invalid = () => evalError(`The following format string is invalid: ${fmt}`, pos);
  let out = '';
  const append = (text: string): void => {
    memory.charge(text.length, pos);
    out += text;
  };
  let i = 0;
  while (i < fmt.length) {
    const left = fmt.indexOf('{', i);
    const right = fmt.indexOf('}', i);
    if (left >= 0 && (right < 0 || left < right)) {
      if (fmt[left + 1] === '{') {
        append(fmt.slice(i, left + 1));
        i = left + 2;
        continue;
      }
      const digits = /^\d+/.exec(fmt.slice(left + 1, right < 0 ? undefined : right))?.[0];
      if (digits === undefined || right !== left + 1 + digits.length) throw invalid();
      const n = Number(digits);
      if (n + 1 >= args.length) {
        throw evalError(`The following format string references more arguments than were supplied: ${fmt}`, pos);
      }
      append(fmt.slice(i, left));
      append(toStr(args[n + 1]));
      i = right + 1;
    } else if (right >= 0) {
      if (fmt[right + 1] !== '}') throw invalid();
      append(fmt.slice(i, right + 1));
      i = right + 2;
    } else {
      append(fmt.slice(i));
      break;
    }
  }
  return out;
}
