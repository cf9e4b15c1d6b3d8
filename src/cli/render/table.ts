// string-width 4, the one cli-table3 measured with: same widths as before, and ~4 ms to load, where string-width 8
// builds an Intl.Segmenter as it loads (~37 ms of every `show` and `list-runs`).
import stringWidth from 'string-width';

/** Between two columns. */
const GAP = '  ';

/**
 * A borderless table: a header line, then a line per row (more where a cell holds several lines), each column
 * as wide as its widest line, measured as a terminal shows it (colour codes take no room, wide characters two).
 * Readable in a terminal and easy to grep. Linear in its cells: `show --files` of a 10,000-instance job lists
 * 30,000 rows (cli-table3, used before, lays a table out in time quadratic in its rows: cli-table3#68).
 */
export function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows].map((row) => row.map((cell) => String(cell ?? '').split('\n')));
  const columns = Math.max(0, ...all.map((row) => row.length));
  const widths = Array.from({ length: columns }, () => 0);
  for (const row of all) row.forEach((lines, i) => (widths[i] = Math.max(widths[i]!, ...lines.map((l) => stringWidth(l)))));
  const out: string[] = [];
  for (const row of all) {
    const height = Math.max(1, ...row.map((lines) => lines.length));
    for (let k = 0; k < height; k++) {
      const line = widths.map((w, i) => {
        const text = row[i]?.[k] ?? '';
        return text + ' '.repeat(w - stringWidth(text));
      });
      out.push(line.join(GAP).trimEnd());
    }
  }
  return out.join('\n');
}
