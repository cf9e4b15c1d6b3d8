// `orchestrator prune`: old run folders go (--older-than, --keep, both), never a job whose process is alive;
// it says what it removed and the space freed, or with --dry-run what it would.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-prune-');
const DAY = 86_400_000;

/** Make a job look as if it started `days` ago (its manifest is what prune reads). */
function age(job: string, days: number): void {
  const file = rig().runPath('manifest.json', job);
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  m.started_at = new Date(Date.now() - days * DAY).toISOString();
  fs.writeFileSync(file, JSON.stringify(m));
}

/** Bytes of every file of a run folder. */
function size(job: string): number {
  const walk = (d: string): number => fs.readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? walk(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size), 0);
  return walk(rig().runPath('', job));
}

/** Four finished jobs, started 40, 35, 1 and 0 days ago, oldest first. */
function fourJobs(): string[] {
  rig().write('spec.yaml', 'steps:\n  a:\n    run: echo hello > "$ORCH_ARTIFACTS/out.txt"\n');
  for (let i = 0; i < 4; i++) expect(rig().run(['run', 'spec.yaml']).code).toBe(0);
  const jobs = rig().jobs();
  [40, 35, 1].forEach((days, i) => age(jobs[i]!, days));
  return jobs;
}

describe('orchestrator prune', () => {
  it('needs --older-than or --keep, and a well-formed age', () => {
    const none = rig().run(['prune']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/prune needs --older-than <age> \(e\.g\. 30d\), --keep <n>, or both/);
    const bad = rig().run(['prune', '--older-than', '30x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument '30x' is invalid\. expected an age: a number of seconds \(3600\), or 500ms, 45s, 90m, 12h, 30d/);
    expect(rig().run(['prune', '--keep', '-1']).code).toBe(2);
  });

  it('--dry-run says what --older-than would remove and the space, and removes nothing', () => {
    const jobs = fourJobs();
    const r = rig().run(['prune', '--older-than', '30d', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^would remove ${jobs[0]}  spec  succeeded  40d old  `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^would remove ${jobs[1]}  spec  succeeded  35d old  `, 'm'));
    expect(r.stdout).toMatch(/^would remove 2 runs from .*, would free .*; kept 2$/m);
    expect(rig().jobs()).toEqual(jobs);
    const json = JSON.parse(rig().run(['prune', '--older-than', '30d', '--dry-run', '--json']).stdout);
    expect(json).toMatchObject({ dry_run: true, kept: 2, running: [], unreadable: [] });
    expect(json.removed.map((e: { job_id: string }) => e.job_id)).toEqual([jobs[1], jobs[0]]);
    expect(json.freed_bytes).toBe(size(jobs[0]!) + size(jobs[1]!));
    // A bare number is seconds, as a duration in a spec (§1): 30 days.
    const seconds = rig().run(['prune', '--older-than', String(30 * 86_400), '--dry-run', '--json']);
    expect(seconds.code).toBe(0);
    expect(JSON.parse(seconds.stdout)).toEqual(json);
  });

  it('cache prune --older-than takes the same ages, and says the same of a bad one', () => {
    const cache = rig().path('cache');
    expect(rig().run(['cache', 'prune', '--older-than', '3600', '--cache-dir', cache, '--json']).code).toBe(0);
    const bad = rig().run(['cache', 'prune', '--older-than', '1x', '--cache-dir', cache]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument '1x' is invalid\. expected an age: a number of seconds \(3600\), or 500ms, 45s, 90m, 12h, 30d/);
  });

  it('--older-than with --keep keeps at least the N newest; --keep alone keeps only them', () => {
    const jobs = fourJobs();
    const freed = size(jobs[0]!);
    const r = rig().run(['prune', '--older-than', '30d', '--keep', '3', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ dry_run: false, kept: 3, freed_bytes: freed });
    expect(doc.removed).toEqual([{ job_id: jobs[0], name: 'spec', status: 'succeeded', started_at: expect.any(String), size_bytes: freed }]);
    expect(rig().jobs()).toEqual(jobs.slice(1));

    const text = rig().run(['prune', '--keep', '1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^removed ${jobs[2]}  `, 'm'));
    expect(text.stdout).toMatch(/^removed 2 runs from .*, freed \d+(\.\d)? (B|KiB); kept 1$/m);
    expect(rig().jobs()).toEqual([jobs[3]]);
    expect(fs.existsSync(rig().path('runs', '.history'))).toBe(true); // not a run folder
  });

  it('never removes a job whose process is alive; an interrupted one (process gone) goes', async () => {
    // A job whose process died without finishing: its manifest still says running, with a dead pid.
    rig().write('quick.yaml', 'steps:\n  a:\n    run: "true"\n');
    expect(rig().run(['run', 'quick.yaml']).code).toBe(0);
    const dead = rig().latest();
    const file = rig().runPath('manifest.json', dead);
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    Object.assign(m, { status: 'running', pid: spawnSync('true').pid, finished_at: null });
    fs.writeFileSync(file, JSON.stringify(m));
    // …and its journal never got to job.finished (a journal that did says the job finished).
    const journal = rig().runPath('events.jsonl', dead);
    fs.writeFileSync(journal, fs.readFileSync(journal, 'utf8').split('\n').filter((l) => !l.includes('"job.finished"')).join('\n'));

    rig().write('wait.yaml', `steps:\n  a:\n    run: while [ ! -f ${rig().path('go')} ]; do sleep 0.05; done\n`);
    const child = spawn(process.execPath, [BIN, 'run', 'wait.yaml'], { cwd: rig().dir, env: rig().env(), stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const deadline = Date.now() + 30_000;
    while (!(rig().jobs().length === 2 && fs.existsSync(rig().runPath('events.jsonl')) && fs.readFileSync(rig().runPath('events.jsonl'), 'utf8').includes('step.started'))) {
      if (Date.now() > deadline) throw new Error('the job never started its step');
      await new Promise((r) => setTimeout(r, 20));
    }
    const live = rig().latest();
    const r = rig().run(['prune', '--keep', '0', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.removed.map((e: { job_id: string; status: string }) => [e.job_id, e.status])).toEqual([[dead, 'interrupted']]);
    expect(doc.running).toEqual([expect.objectContaining({ job_id: live, status: 'running', pid: child.pid })]);
    expect(rig().jobs()).toEqual([live]);
    expect(rig().run(['prune', '--keep', '0']).stdout).toMatch(new RegExp(`^kept ${live}  wait  running  .*\\(still running, pid ${child.pid}\\)$`, 'm'));

    rig().write('go', '');
    expect(await exited).toBe(0);
    expect(rig().manifest(live).status).toBe('succeeded');
  });
});
