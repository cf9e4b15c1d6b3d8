/** `1 entry`, `3 entries`. */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A size for people: `512 B`, `3.4 KiB`, `12.0 MiB`, `1.2 GiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * Text as one line: each line break (CR, LF or both) shown as `↵`. What a step wrote (an error quoting its output,
 * a log line with a lone CR) cannot then start a line of ours, where a CI runner would read it as a command.
 */
export function toOneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '↵');
}
