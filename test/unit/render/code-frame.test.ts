import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { codeFrame, formatDiagnosticsWithFrames } from '../../../src/cli/render/code-frame.js';

const plain = new Chalk({ level: 0 });

/** The column (0-based, in characters) of the caret in a frame's second line, relative to the source text's start. */
function caretUnder(frame: string): string {
  const [src, caret] = frame.split('\n') as [string, string];
  const textStart = src.indexOf('| ') + 2;
  return src.slice(textStart)[caret.indexOf('^') - textStart] ?? '';
}

describe('codeFrame', () => {
  it('shows the line with its number and a caret under the column', () => {
    const frame = codeFrame('steps:\n  a:\n    needz: [b]\n', 3, 5, plain);
    expect(frame).toBe(' 3 | ' + '    needz: [b]\n' + '   | ' + '    ^');
    expect(caretUnder(frame)).toBe('n');
  });

  it('keeps tabs in the indent so the caret lines up', () => {
    const frame = codeFrame('a\n\tx: 1\n', 2, 2, plain);
    expect(frame.split('\n')[1]).toBe('   | \t^');
  });

  it('cuts a long line around the column and still points at it', () => {
    const line = `${'x'.repeat(300)}HERE${'y'.repeat(300)}`;
    const frame = codeFrame(line, 1, 301, plain);
    expect(frame.split('\n')[0]!.length).toBeLessThan(140);
    expect(caretUnder(frame)).toBe('H');
  });

  it('pads the gutter to the line number', () => {
    const src = Array.from({ length: 120 }, (_, i) => `line${i + 1}`).join('\n');
    expect(codeFrame(src, 100, 1, plain)).toBe(' 100 | line100\n     | ^');
  });

  it('is empty for a line that does not exist', () => {
    expect(codeFrame('a\n', 9, 1, plain)).toBe('');
  });
});

describe('formatDiagnosticsWithFrames', () => {
  it('keeps file:line:col: message first and adds a frame from the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-frame-'));
    const file = path.join(dir, 'spec.yaml');
    fs.writeFileSync(file, 'steps:\n  a:\n    run: echo\n    needs: [zz]\n');
    const text = formatDiagnosticsWithFrames(
      [
        { code: 'spec-invalid', message: 'step "a" needs unknown step "zz"', file, line: 4, col: 13 },
        { code: 'spec-read', message: 'no location', file },
        { code: 'usage', message: 'not about a file' },
        { code: 'spec-invalid', message: 'gone', file: path.join(dir, 'missing.yaml'), line: 1, col: 1 },
      ],
      plain,
    );
    fs.rmSync(dir, { recursive: true });
    expect(text.split('\n')).toEqual([
      `${file}:4:13: step "a" needs unknown step "zz"`,
      ' 4 |     needs: [zz]',
      '   |             ^',
      `${file}: no location`,
      'not about a file',
      `${path.join(dir, 'missing.yaml')}:1:1: gone`,
      '',
    ]);
  });
});
