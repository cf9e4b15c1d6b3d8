// Issue 14, defect 10: a full disk (a 256 kB tmpfs as the runs folder), or the runs folder deleted while a job
// runs, ends in a step or job failure with a code a user understands (disk-full, io) and one line naming the
// path, the job recorded as failed as far as the disk allows, exit 1, no stack. An internal bug exits 70 with
// "internal error, please report" and the stack in a file. The tmpfs tests need `mount` (root, Linux): they say
// why they skip where it is not permitted, and must run when ORCH_REQUIRE_TMPFS=1 (.ci/run sets it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, useCliRig, type CliResult } from '../helpers/cli.js';

const rig = useCliRig('orch-disk-');

/** Whether a tmpfs can be mounted here, and if not why. */
const tmpfsProbe = ((): string | undefined => {
  if (process.platform !== 'linux') return 'tmpfs mounts are Linux-only';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-tmpfs-probe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    if (r.status !== 0) return `mount -t tmpfs is not permitted here (${(r.stderr || String(r.error ?? '')).trim().split('\n')[0]})`;
    spawnSync('umount', [dir]);
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
if (tmpfsProbe && process.env.ORCH_REQUIRE_TMPFS === '1') throw new Error(`ORCH_REQUIRE_TMPFS=1, but ${tmpfsProbe}`);
if (tmpfsProbe) process.stderr.write(`skipping the full-disk tests: ${tmpfsProbe}\n`);

const mounted: string[] = [];
afterEach(() => {
  for (const dir of mounted.splice(0)) spawnSync('umount', [dir]);
});

/** A 256 kB tmpfs as the rig's runs folder. */
function fullDiskRunsDir(): string {
  const dir = rig().runsDir;
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount: ${r.stderr}`);
  mounted.push(dir);
  return dir;
}

/** Failed as a user should see it: exit 1, no Node stack, nothing said to be internal. */
function expectFailedCleanly(r: CliResult): void {
  expect(r.stderr).not.toMatch(/\n\s+at |internal error|Error: E[A-Z]+/);
  expect(r.code, r.stderr).toBe(1);
}

/** The job as the journal's last line records it. */
function lastEvent(job = rig().latest()): { type: string; status?: string; error?: { code: string; message: string } } {
  const lines = fs.readFileSync(rig().runPath('events.jsonl', job), 'utf8').trim().split('\n');
  return JSON.parse(lines.at(-1)!) as { type: string; status?: string };
}

describe.skipIf(tmpfsProbe !== undefined)('a full disk (256 kB tmpfs as the runs folder)', () => {
  it('a step whose log fills the disk fails with disk-full naming its log; the job is recorded failed', () => {
    const dir = fullDiskRunsDir();
    rig().write('flood.yaml', 'steps:\n  flood:\n    run: head -c 600000 /dev/zero | tr "\\\\0" x\n  other:\n    run: echo ok\n');
    const r = rig().run(['run', 'flood.yaml']);
    expectFailedCleanly(r);
    const job = rig().latest();
    const m = rig().manifest();
    expect(m.status).toBe('failed');
    expect(m.steps.flood!.error).toEqual({ code: 'disk-full', message: `disk full: cannot write ${path.join(dir, job, 'logs/flood.log')} (ENOSPC)` });
    expect(r.stdout).toContain(`FAILED  flood`);
    expect(lastEvent()).toMatchObject({ type: 'job.finished', status: 'failed' });
    expect(rig().run(['show', job])).toMatchObject({ code: 0 });
    expect(rig().run(['list-runs']).stdout).toMatch(new RegExp(`^${job} +flood +failed`, 'm'));
  });

  it('a disk that fills while the job runs: the journal and outputs stop, the job still ends failed with the reason', () => {
    fullDiskRunsDir();
    const steps = Array.from({ length: 40 }, (_, i) => `  t${i}:\n    run: "true"\n`).join('');
    rig().write('fill.yaml', `concurrency: 1\nsteps:\n${steps}  fill:\n    needs: [t39]\n    run: head -c 1000000 /dev/zero > "$ORCH_ARTIFACTS/fill" || true\n`);
    const r = rig().run(['run', 'fill.yaml', '-q']);
    expectFailedCleanly(r);
    expect(r.stderr).toMatch(/^orchestrator: disk full: cannot write \S+ \(ENOSPC\): the job failed, recorded as far as the disk allowed$/m);
    expect(rig().manifest().status).toBe('failed');
    expect(lastEvent()).toMatchObject({ type: 'job.finished', status: 'failed', error: { code: 'disk-full' } });
    const shown = rig().run(['show', 'latest', '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'failed', error: { code: 'disk-full' } });
  });

  it('a disk full before the job starts: exit 1, one line naming the spec copy', () => {
    const dir = fullDiskRunsDir();
    spawnSync('sh', ['-c', `head -c 400000 /dev/zero > ${dir}/filler`]);
    rig().write('s.yaml', 'steps:\n  a:\n    run: echo a\n');
    const r = rig().run(['run', 's.yaml']);
    expectFailedCleanly(r);
    expect(r.stderr).toMatch(/^orchestrator: disk full: cannot write \S+\/inputs\/spec\.yaml \(ENOSPC\): the job failed, recorded as far as the disk allowed$/m);
    expect(rig().run(['list-runs']).code).toBe(0);
  });
});

describe('the runs folder deleted while a job runs', () => {
  it('fails the steps with io naming the path, and the job with one line; exit 1, no stack', () => {
    rig().write('del.yaml', 'steps:\n  a:\n    run: rm -rf "$(dirname "$ORCH_RUN_DIR")"; echo after\n  b:\n    needs: [a]\n    if: always()\n    run: echo b\n');
    const r = rig().run(['run', 'del.yaml']);
    expectFailedCleanly(r);
    expect(r.stdout).toMatch(/FAILED {2}a .*io: cannot write \S+\/logs\/a\.log: its folder is gone \(ENOENT\)/);
    expect(r.stderr).toMatch(/^orchestrator: cannot write \S+\/manifest\.json: its folder is gone \(ENOENT\): the job failed, recorded as far as the disk allowed$/m);
    expect(rig().run(['list-runs'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^no runs in /) });
  });
});

describe('an internal error (a bug)', () => {
  it('exits 70 with "internal error, please report", the stack written to a file and not printed', () => {
    rig().write('s.yaml', 'steps:\n  a:\n    run: echo a\n');
    const preload = path.join(REPO, 'test/fixtures/preload/break-spec-reading.cjs');
    const r = rig().run(['validate', 's.yaml'], { env: { NODE_OPTIONS: `--require ${preload}`, TMPDIR: rig().dir } });
    expect(r.code).toBe(70);
    const m = /^orchestrator: internal error, please report: test double: reading a spec is broken \(stack written to (\S+)\)$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.readFileSync(m![1]!, 'utf8')).toMatch(/TypeError: test double: reading a spec is broken\n\s+at /);
    const json = rig().run(['validate', 's.yaml', '--json'], { env: { NODE_OPTIONS: `--require ${preload}`, TMPDIR: rig().dir } });
    expect(json.code).toBe(70);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: [{ code: 'internal', message: expect.stringMatching(/^internal error, please report: /) }] });
  });

  it('a command left waiting for what can no longer happen exits 70 and says so, never 0 as if it had succeeded', () => {
    const preload = path.join(REPO, 'test/fixtures/preload/stdin-never-ends.cjs');
    const r = rig().run(['validate', '-'], { env: { NODE_OPTIONS: `--require ${preload}`, TMPDIR: rig().dir } });
    expect(r.code).toBe(70);
    expect(r.stderr).toMatch(/^orchestrator: internal error, please report: the command stopped before it finished: it was waiting for something that can no longer happen \(stack written to \S+\)\n$/);
  });
});
