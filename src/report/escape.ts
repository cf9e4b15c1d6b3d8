import { stripAnsi } from '../util/ansi.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML and SVG, in element content and in quoted attributes alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

// C0 controls other than tab, newline and carriage return, and DEL: noise in a page.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Log text as a page shows it: terminal escape codes and stray control characters removed (not yet escaped). */
export function cleanLogText(text: string): string {
  return stripAnsi(text).replace(CONTROL, '').replace(/\r\n/g, '\n');
}

/** A label cut to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
