// Markdown as GitHub renders it (job summaries): text that stays text, code that stays code, and a size cap.

/** Text inside Markdown (a table cell, a heading) that renders as itself: on one line, no markup, no HTML. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|#~!]/g, (c) => `\\${c}`);
}

/** A fenced code block around `lines`: the fence is longer than any run of backticks inside, so none can close it. */
export function fencedBlock(lang: string, lines: readonly string[]): string {
  const longest = Math.max(0, ...lines.map((l) => Math.max(0, ...[...l.matchAll(/`+/g)].map((m) => m[0].length))));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${lines.join('\n')}\n${fence}\n`;
}

/** A part of a capped document: fixed text, or text that can be made shorter to fit `room` bytes (undefined: not at all). */
export type Block = string | ((room: number) => string | undefined);

/** What a capped document is made of: a head and a foot always kept, and blocks in between kept while they fit. */
export interface CappedDocument {
  head: string;
  blocks: readonly Block[];
  foot: string;
  /** Size limit in bytes (UTF-8). */
  limit: number;
  /** The note put where blocks were cut or left out (it is always given room). */
  note: string;
}

/** Size of text in bytes, as a file holds it. */
export function byteSize(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The document within `limit` bytes: head, the blocks in order while they fit (the first that does not is cut to
 * the room left, if it can be), the note if anything was cut or left out, and the foot; undefined when even head,
 * note and foot do not fit.
 */
export function fitDocument({ head, blocks, foot, limit, note }: CappedDocument): string | undefined {
  const whole = blocks.map((b) => (typeof b === 'string' ? b : b(Infinity) ?? ''));
  if (byteSize(head) + byteSize(foot) + whole.reduce((n, b) => n + byteSize(b), 0) <= limit) return head + whole.join('') + foot;
  let used = byteSize(head) + byteSize(foot) + byteSize(note);
  if (used > limit) return undefined;
  const kept: string[] = [];
  for (const [i, text] of whole.entries()) {
    if (used + byteSize(text) <= limit) {
      kept.push(text);
      used += byteSize(text);
      continue;
    }
    const block = blocks[i]!;
    const cut = typeof block === 'string' ? undefined : block(limit - used);
    if (cut !== undefined) kept.push(cut);
    break;
  }
  return head + kept.join('') + note + foot;
}
