import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalReader, readJournal } from '../../../src/store/journal.js';

const JOB = '20261128-110000-000-abcde';
let dir: string;
let file: string;
const line = (seq: number, step = 'a') => `${JSON.stringify({ ts: '2026-11-28T11:00:00.000Z', seq, job_id: JOB, type: 'step.started', step, attempt: 1 })}\n`;
const seqs = (events: { seq: number }[]) => events.map((e) => e.seq);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-journal-reader-'));
  file = path.join(dir, 'events.jsonl');
  fs.writeFileSync(file, line(1) + line(2));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('JournalReader', () => {
  it('reads what the journal gained since its last read, a line only once it has ended', () => {
    const reader = new JournalReader(file);
    expect(seqs(reader.read())).toEqual([1, 2]);
    const third = line(3);
    fs.appendFileSync(file, third.slice(0, 25));
    expect(seqs(reader.read())).toEqual([1, 2]); // a torn end, as readJournal has it
    fs.appendFileSync(file, third.slice(25) + '\n' + line(4));
    expect(seqs(reader.read())).toEqual([1, 2, 3, 4]);
    expect(seqs(reader.read())).toEqual(seqs(readJournal(file)));
  });

  it('parses an earlier line once: a line changed in place after it was read is not read again', () => {
    const reader = new JournalReader(file);
    reader.read();
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('"step":"a"', '"step":"b"')); // same length, same place
    fs.appendFileSync(file, line(3));
    expect(reader.read().map((e) => ('step' in e ? e.step : ''))).toEqual(['a', 'a', 'a']);
  });

  it('follows a journal cut back to its last whole line, and reads one cut shorter than what it took from the start', () => {
    const reader = new JournalReader(file);
    fs.appendFileSync(file, '{"ts":"2026-11-28T11:00:00.000Z","seq":3,"job');
    expect(seqs(reader.read())).toEqual([1, 2]);
    fs.truncateSync(file, Buffer.byteLength(line(1) + line(2))); // the writer cuts the torn line off, then goes on
    fs.appendFileSync(file, line(3, 'c'));
    expect(reader.read().map((e) => ('step' in e ? e.step : ''))).toEqual(['a', 'a', 'c']);
    fs.writeFileSync(file, line(7));
    expect(seqs(reader.read())).toEqual([7]);
  });

  it('throws as readJournal does for a bad line that something follows, and starts over on the next read', () => {
    const reader = new JournalReader(file);
    fs.appendFileSync(file, 'not json\n');
    expect(seqs(reader.read())).toEqual([1, 2]); // the end of the journal, for now
    fs.appendFileSync(file, line(4));
    expect(() => reader.read()).toThrow('line 3 is not a JSON event');
    expect(() => readJournal(file)).toThrow('line 3 is not a JSON event');
    fs.writeFileSync(file, line(1) + line(2) + line(3));
    expect(seqs(reader.read())).toEqual([1, 2, 3]);
  });
});
