// What the lists of runs remember of finished jobs (src/store/run-summaries.ts): a summary is trusted while its
// manifest's stat (size, mtime, inode) is the same, read again when it is not, never kept for a job still running
// or a damaged folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunSummaries } from '../../../src/store/run-summaries.js';

let runsDir: string;
beforeEach(() => {
  runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-summaries-'));
});
afterEach(() => {
  fs.chmodSync(runsDir, 0o755);
  fs.rmSync(runsDir, { recursive: true, force: true });
});

const JOB = '20261128-080000-000-aaaaa';
const step = (status: string, extra: object = {}) => ({ status, attempts: 1, started_at: null, finished_at: null, duration_s: null, exit_code: null, cached: false, reused: false, error: null, ...extra });

/** A manifest of this version's shape. */
function writeManifest(job: string, o: { status?: string; name?: string; pid?: number } = {}): string {
  const manifest = {
    schema_version: 1,
    job_id: job,
    name: o.name ?? 'nine',
    status: o.status ?? 'succeeded',
    spec: { path: '/x/spec.yaml', sha256: 'a'.repeat(64) },
    started_at: '2026-11-28T08:00:00.000Z',
    finished_at: o.status === 'running' ? null : '2026-11-28T08:00:01.000Z',
    duration_s: o.status === 'running' ? null : 1,
    concurrency: 2,
    pid: o.pid ?? 999_999_999,
    hostname: os.hostname(),
    steps: { list: step('succeeded'), count: step('failed', { instances: ['count (0)', 'count (1)'] }), 'count (0)': step('succeeded', { instance_of: 'count' }), 'count (1)': step('failed', { instance_of: 'count' }) },
    files: [],
  };
  const file = path.join(runsDir, job, 'manifest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(manifest));
  return file;
}

describe('RunSummaries', () => {
  it('counts what ran (instances, not their fanned step) and the top-level steps apart, and remembers a finished job while its manifest is unchanged', () => {
    const file = writeManifest(JOB);
    fs.utimesSync(file, 1_800_000_000, 1_800_000_000); // whole seconds: what utimes sets back exactly below
    const first = RunSummaries.open(runsDir);
    expect(first.summary(JOB)).toMatchObject({ job_id: JOB, name: 'nine', status: 'succeeded', ran: { succeeded: 2, failed: 1 }, top: { succeeded: 1, failed: 1 } });
    first.save([JOB]);
    // The same bytes' length, the same inode and mtime: trusted without reading (the name here proves it).
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"name":"nine"', '"name":"NINE"'));
    fs.utimesSync(file, 1_800_000_000, 1_800_000_000);
    expect(RunSummaries.open(runsDir).summary(JOB).name).toBe('nine');
    // Its mtime changed: read again.
    fs.utimesSync(file, 1_800_000_000, 1_800_000_005);
    expect(RunSummaries.open(runsDir).summary(JOB).name).toBe('NINE');
  });

  it('keeps nothing of a job still running, or of one interrupted (its writer gone)', () => {
    writeManifest(JOB, { status: 'running', pid: process.pid });
    fs.writeFileSync(path.join(runsDir, JOB, 'events.jsonl'), '');
    const s = RunSummaries.open(runsDir);
    expect(s.summary(JOB).status).toBe('running');
    s.save([JOB]);
    expect(fs.existsSync(path.join(runsDir, '.history', 'runs.json'))).toBe(false);
    writeManifest(JOB, { status: 'running' }); // pid 999999999: no such process
    const t = RunSummaries.open(runsDir);
    expect(t.summary(JOB).status).toBe('interrupted');
    t.save([JOB]);
    expect(fs.existsSync(path.join(runsDir, '.history', 'runs.json'))).toBe(false);
  });

  it('reads an entry of the wrong shape again from its manifest, and forgets jobs whose folders are gone', () => {
    writeManifest(JOB);
    const s = RunSummaries.open(runsDir);
    s.summary(JOB);
    s.save([JOB]);
    const file = path.join(runsDir, '.history', 'runs.json');
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { runs: Record<string, { summary: unknown }> };
    const { ran: _, ...earlier } = saved.runs[JOB]!.summary as Record<string, unknown>;
    saved.runs[JOB]!.summary = null;
    fs.writeFileSync(file, JSON.stringify(saved));
    expect(RunSummaries.open(runsDir).summary(JOB).status).toBe('succeeded');
    // An earlier version's entry, whose counts (`steps`) took a fanned step with its instances.
    saved.runs[JOB]!.summary = { ...earlier, name: 'OLD', steps: { succeeded: 2, failed: 2 } };
    fs.writeFileSync(file, JSON.stringify(saved));
    expect(RunSummaries.open(runsDir).summary(JOB)).toMatchObject({ name: 'nine', ran: { succeeded: 2, failed: 1 } });
    const gone = RunSummaries.open(runsDir);
    gone.save([]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ runs: {} });
  });

  it('lists a runs folder it cannot write all the same', () => {
    if (process.getuid?.() === 0) return; // root writes anyway: nothing to show
    writeManifest(JOB);
    fs.chmodSync(runsDir, 0o555);
    const s = RunSummaries.open(runsDir);
    expect(s.summary(JOB).status).toBe('succeeded');
    expect(() => s.save([JOB])).not.toThrow();
  });
});
