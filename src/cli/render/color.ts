import chalk, { Chalk, type ChalkInstance } from 'chalk';

/** Colours for a stream: follow the terminal, and `NO_COLOR` (https://no-color.org) turns them off. */
export function colorsFor(stream: NodeJS.WriteStream): ChalkInstance {
  if (process.env.NO_COLOR) return new Chalk({ level: 0 });
  if (process.env.FORCE_COLOR) return chalk;
  return new Chalk({ level: stream.isTTY ? chalk.level || 1 : 0 });
}

/** The colour of a status (job or step), for words, marks and bars: the one map every renderer uses. */
export function statusPaint(c: ChalkInstance, status: string): (text: string) => string {
  switch (status) {
    case 'succeeded':
      return c.green;
    case 'failed':
      return c.red;
    case 'running':
      return c.blue;
    case 'skipped':
    case 'pending':
      return c.gray;
    default:
      return c.magenta;
  }
}

/** A status word in its colour. */
export function paintStatus(c: ChalkInstance, status: string): string {
  return statusPaint(c, status)(status);
}
