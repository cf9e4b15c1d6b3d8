import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAILURE_SCAN_BYTES, readLogLines } from '../../../src/store/log-tail.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-log-tail-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function log(text: string): string {
  const file = path.join(dir, 'step.log');
  fs.writeFileSync(file, text);
  return file;
}

describe('readLogLines', () => {
  it('reads a short log whole: its tail, the failure lines above it, how many lines came before', () => {
    const file = log('Error: first\nok\nnot ok 2 - b\nx\ny\n\n');
    expect(readLogLines(file, { lines: 2 })).toEqual({ tail: ['x', 'y'], failures: ['Error: first', 'not ok 2 - b'], failureCount: 2, earlier: 3, end: 34 });
    expect(readLogLines(file, { lines: 10 })).toMatchObject({ tail: ['Error: first', 'ok', 'not ok 2 - b', 'x', 'y'], failures: [], earlier: 0 });
    expect(readLogLines(log('no newline at the end'), { lines: 3 })).toMatchObject({ tail: ['no newline at the end'], earlier: 0 });
    expect(readLogLines(log(''), { lines: 3 })).toMatchObject({ tail: [], failures: [], earlier: 0 });
    expect(readLogLines(path.join(dir, 'missing.log'), { lines: 3 })).toBeUndefined();
  });

  it('reads a huge log only from its end: failure lines within the scanned part, the earlier count unknown', () => {
    const filler = `${'.'.repeat(99)}\n`;
    const far = 'Traceback (most recent call last)\n' + filler.repeat((2 * FAILURE_SCAN_BYTES) / filler.length);
    const near = 'AssertionError [ERR_ASSERTION]: 5 == 6\n' + filler.repeat(1000);
    const r = readLogLines(log(`${far}${near}last\n`), { lines: 5 })!;
    expect(r.tail).toEqual([...Array(4).fill('.'.repeat(99)), 'last']);
    expect(r.failures).toEqual(['AssertionError [ERR_ASSERTION]: 5 == 6']);
    expect(r.earlier).toBeUndefined();
  });

  it('a tail longer than the failure scan is still read whole', () => {
    const line = `${'y'.repeat(999)}\n`;
    const count = Math.ceil((2 * FAILURE_SCAN_BYTES) / line.length);
    const r = readLogLines(log(`${'z'.repeat(999)}\n${line.repeat(count)}`), { lines: count })!;
    expect(r.tail).toHaveLength(count);
    expect(r.tail.every((l) => l === 'y'.repeat(999))).toBe(true);
    expect(r.earlier).toBe(1);
  });

  it('a log of one endless line is read only 4 MiB back, and the line is cut where asked', () => {
    const r = readLogLines(log('b'.repeat(6 * 1024 * 1024)), { lines: 3, lineChars: 100 })!;
    expect(r.tail).toEqual([`${'b'.repeat(100)}… (${4 * 1024 * 1024 - 100} more characters)`]);
    expect(r.earlier).toBeUndefined();
  });
});
