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

/**
 * Text that came from data (an instance's label, from a file or a model; a job's name) as a terminal shows it
 * harmlessly, on one line: each line break as `↵` (as toOneLine), any other control character as its Unicode
 * symbol (a tab `␉`, ESC `␛`, DEL `␡`), and a C1 control, which some terminals obey as ESC is obeyed, as `�`.
 * Raw, a newline would break a row of `show` in two, a tab shift its columns and an escape sequence recolour (or
 * retitle, or clear) the terminal; `␛[31mred␛[0m` says what the label holds. The bidirectional embedding, override
 * and isolate controls (U+202A–U+202E, U+2066–U+2069) are shown as `�` too: one of them would print the rest of the
 * line right to left (a label `\u202Etxt.exe` reads as `exe.txt`), the "Trojan Source" trick. Other Unicode is kept as it is.
 */
export function toPrintable(text: string): string {
  return toOneLine(text).replace(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, (ch) => (ch >= '\u0080' ? '�' : controlPicture(ch)));
}

/** The symbol Unicode gives a C0 control character or DEL: `␉` for a tab, `␛` for ESC, `␡` for DEL. */
export function controlPicture(ch: string): string {
  const code = ch.charCodeAt(0);
  return code === 0x7f ? '␡' : String.fromCharCode(0x2400 + code);
}
