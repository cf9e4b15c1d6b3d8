import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalWatch } from '../../../src/store/journal-watch.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-journal-watch-'));
  file = path.join(dir, 'events.jsonl');
  fs.writeFileSync(file, `${JSON.stringify({ seq: 1, type: 'step.started', step: 'a', attempt: 1 })}\n`);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('JournalWatch', () => {
  it("says when the step's end is written, a line torn mid-way counted only once whole, and keeps saying it without reading again", () => {
    const watch = new JournalWatch(file, 'a');
    expect(watch.readEnd()).toBeUndefined();
    const end = JSON.stringify({ seq: 2, type: 'step.succeeded', step: 'a', attempt: 1 });
    fs.appendFileSync(file, end.slice(0, 20));
    expect(watch.readEnd()).toBeUndefined();
    fs.appendFileSync(file, `${end.slice(20)}\n`);
    expect(watch.readEnd()).toBe('step-ended');
    fs.rmSync(file);
    expect(watch.readEnd()).toBe('step-ended');
  });

  it("says the job ended for a step that never ended itself, and ignores other steps' ends", () => {
    const watch = new JournalWatch(file, 'b');
    fs.appendFileSync(file, `${JSON.stringify({ seq: 2, type: 'step.failed', step: 'a', attempt: 1 })}\n`);
    expect(watch.readEnd()).toBeUndefined();
    fs.appendFileSync(file, `${JSON.stringify({ seq: 3, type: 'job.finished', status: 'failed' })}\n`);
    expect(watch.readEnd()).toBe('job-ended');
  });
});
