import fs from 'node:fs';
import type { ChalkInstance } from 'chalk';
import { formatDiagnostic, type Diagnostic } from '../../errors.js';

/** Widest source excerpt shown in a frame; longer lines are cut around the column. */
const MAX_FRAME_WIDTH = 120;

/**
 * The offending line of `source` with a caret under `col` (both 1-based), e.g.
 * ```
 *   12 |     needz: [a]
 *      |     ^
 * ```
 * Empty when the line does not exist.
 */
export function codeFrame(source: string, line: number, col: number, c: ChalkInstance): string {
  const lines = source.split(/\r?\n/);
  const text = lines[line - 1];
  if (text === undefined) return '';
  let start = 0;
  let column = Math.max(1, Math.min(col, text.length + 1));
  // Cut long lines to a window that keeps the caret visible.
  if (text.length > MAX_FRAME_WIDTH) start = Math.max(0, Math.min(column - 1 - Math.floor(MAX_FRAME_WIDTH / 2), text.length - MAX_FRAME_WIDTH));
  const shown = (start > 0 ? '…' : '') + text.slice(start, start + MAX_FRAME_WIDTH) + (start + MAX_FRAME_WIDTH < text.length ? '…' : '');
  column = column - start + (start > 0 ? 1 : 0);
  // Keep tabs in the caret's indent so it lines up however wide the terminal draws them.
  const indent = shown.slice(0, column - 1).replace(/[^\t]/g, ' ');
  const gutter = String(line).length;
  const bar = c.dim(' |');
  return [`${c.dim(` ${String(line).padStart(gutter)}`)}${bar} ${shown}`, `${' '.repeat(gutter + 1)}${bar} ${indent}${c.red('^')}`].join('\n');
}

/**
 * Every diagnostic as `file:line:col: message`, followed by a code frame when it points into a
 * readable file. Each file is read once per batch.
 */
export function formatDiagnosticsWithFrames(diagnostics: readonly Diagnostic[], c: ChalkInstance): string {
  const sources = new Map<string, string | undefined>();
  const read = (file: string): string | undefined => {
    if (!sources.has(file)) {
      let text: string | undefined;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        text = undefined; // the message already names the file; a frame is a bonus, not the error
      }
      sources.set(file, text);
    }
    return sources.get(file);
  };
  const out: string[] = [];
  for (const d of diagnostics) {
    out.push(formatDiagnostic(d));
    if (d.file === undefined || d.line === undefined) continue;
    const source = read(d.file);
    const frame = source === undefined ? '' : codeFrame(source, d.line, d.col ?? 1, c);
    if (frame) out.push(frame);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
