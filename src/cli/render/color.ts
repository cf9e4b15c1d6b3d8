import chalk, { Chalk, type ChalkInstance } from 'chalk';

/** Colours for a stream: follow the terminal, and `NO_COLOR` (https://no-color.org) turns them off. */
export function colorsFor(stream: NodeJS.WriteStream): ChalkInstance {
  if (process.env.NO_COLOR) return new Chalk({ level: 0 });
  if (process.env.FORCE_COLOR) return chalk;
  return new Chalk({ level: stream.isTTY ? chalk.level || 1 : 0 });
}

/** A status word in its colour. */
export function paintStatus(c: ChalkInstance, status: string): string {
  switch (status) {
    case 'succeeded':
      return c.green(status);
    case 'failed':
      return c.red(status);
    case 'running':
      return c.blue(status);
    case 'skipped':
      return c.gray(status);
    default:
      return c.magenta(status);
  }
}
