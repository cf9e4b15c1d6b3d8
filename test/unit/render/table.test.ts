import { describe, expect, it } from 'vitest';
import { table } from '../../../src/cli/render/table.js';

describe('table', () => {
  it('pads each column to its widest line as a terminal shows it: colour codes take no room, wide characters two', () => {
    const out = table(['STEP', 'STATUS', 'NOTE'], [
      ['build', '\u001b[32msucceeded\u001b[39m', ''],
      ['日本', 'failed', 'exit 1'],
      ['🙂', 'skipped', ''],
    ]);
    expect(out.replace(/\u001b\[\d+m/g, '').split('\n')).toEqual([
      'STEP   STATUS     NOTE',
      'build  succeeded',
      '日本   failed     exit 1',
      '🙂     skipped',
    ]);
  });

  it('gives a cell of several lines as many lines, the other cells blank beside them; a short row is padded', () => {
    expect(table(['A', 'B', 'C'], [['one\ntwo', 'x'], ['3', '4', '5']]).split('\n')).toEqual(['A    B  C', 'one  x', 'two', '3    4  5']);
  });

  it('lays out 30,000 rows (a large fan-out\'s files) in one pass', () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => [`outputs/work-${i}.json`, String(i), 'f'.repeat(64)]);
    const lines = table(['PATH', 'BYTES', 'SHA-256'], rows).split('\n');
    expect(lines).toHaveLength(30_001);
    expect(lines[30_000]).toBe(`outputs/work-29999.json  29999  ${'f'.repeat(64)}`);
  });
});
