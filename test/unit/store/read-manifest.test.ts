// readManifest hands the journal it replayed to a caller who needs it too (the web app's run page), and
// loadReportInput takes it instead of reading and checking events.jsonl a second time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../src/events/types.js';
import { loadReportInput } from '../../../src/report/load.js';
import type { JobManifest } from '../../../src/store/manifest.js';
import { readManifest } from '../../../src/store/runs.js';

const JOB = '20261128-110000-000-abcde';
const ts = '2026-11-28T11:00:00.000Z';
let runsDir: string;
let dir: string;

/** A job's first manifest, as `run` writes it when the job starts (this process stands for its writer). */
function startManifest(status: JobManifest['status']): JobManifest {
  const step = { status: 'pending' as const, attempts: 0, started_at: null, finished_at: null, duration_s: null, exit_code: null, cached: false, reused: false, error: null };
  return { schema_version: 1, job_id: JOB, name: 'j', status, spec: { path: '/s.yaml', sha256: 'x' }, started_at: ts, finished_at: null, duration_s: null, concurrency: 1, pid: process.pid, hostname: os.hostname(), steps: { a: step }, files: [] };
}

const events = [
  { ts, seq: 1, job_id: JOB, type: 'job.started', name: 'j', spec_path: '/s.yaml', concurrency: 1, pid: process.pid, steps: ['a'] },
  { ts, seq: 2, job_id: JOB, type: 'step.started', step: 'a', attempt: 1 },
] as RunEvent[];

beforeEach(() => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-read-manifest-'));
  dir = path.join(runsDir, JOB);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
});
afterEach(() => fs.rmSync(runsDir, { recursive: true, force: true }));

describe('readManifest and the journal it reads', () => {
  it("gives a running job's replayed journal to onJournal, and a finished job's (never read) to nobody", () => {
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(startManifest('running')));
    let seen: RunEvent[] | undefined;
    const m = readManifest(runsDir, JOB, { onJournal: (e) => (seen = e) });
    expect(m.status).toBe('running');
    expect(m.steps.a!.status).toBe('running');
    expect(seen?.map((e) => e.seq)).toEqual([1, 2]);

    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(startManifest('succeeded')));
    seen = undefined;
    readManifest(runsDir, JOB, { onJournal: (e) => (seen = e) });
    expect(seen).toBeUndefined();
  });

  it('loadReportInput takes the journal it is given rather than reading events.jsonl again', () => {
    fs.writeFileSync(path.join(dir, 'events.jsonl'), 'not json\n{"also": "not an event"}\n');
    expect(() => loadReportInput(dir, startManifest('running'))).toThrow(/events\.jsonl/);
    expect(loadReportInput(dir, startManifest('running'), events).events).toBe(events);
  });
});
