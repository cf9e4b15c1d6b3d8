// CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks) that tools print to terminals.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g;

/** Text without terminal escape sequences: what a page shows, and how wide a terminal draws it. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
