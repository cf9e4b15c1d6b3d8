/** What a live view needs to know of its stream. */
interface TerminalLike {
  isTTY?: boolean;
  rows?: number;
  columns?: number;
}

/**
 * Whether progress on `stream` should be the live view: a terminal a person watches (with a size:
 * a pseudo-terminal of 0 rows shows nothing redrawn in place), and not a CI log.
 */
export function isLiveTerminal(stream: TerminalLike, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.CI && (stream.rows ?? 0) > 0 && (stream.columns ?? 0) > 0;
}
