import Table from 'cli-table3';

/** A borderless cli-table3 table: readable in a terminal, easy to grep. */
export function table(head: string[], rows: string[][]): string {
  const t = new Table({
    head,
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  t.push(...rows);
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}
