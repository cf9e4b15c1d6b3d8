// `orchestrator doctor`: what this installation uses and why, for people and (with --json) for scripts;
// and $ORCH_SPAWNER, which chooses how steps start, checked before a job makes its run folder.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-doctor-');

interface Doctor {
  ok: boolean;
  version: string;
  spawner: string;
  checks: { name: string; state: 'ok' | 'info' | 'problem'; value: string; detail?: string }[];
}
const doctor = (env: Record<string, string> = {}) => {
  const r = rig().run(['doctor', '--json'], { env });
  return { code: r.code, report: JSON.parse(r.stdout) as Doctor, stderr: r.stderr };
};

describe('orchestrator doctor', () => {
  it('names Node, platform, bash, the spawner, launcher, folders, provider SDKs and Chromium', () => {
    const { code, report } = doctor();
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(['node', 'platform', 'bash', 'spawner', 'launcher', 'runs dir', 'cache dir', 'sdk openai', 'sdk @anthropic-ai/sdk', 'sdk ollama', 'chromium']);
    expect(report.checks.find((c) => c.name === 'node')!.value).toContain(`v${process.versions.node}`);
    expect(report.checks.find((c) => c.name === 'bash')!.value).toMatch(/\/bash \(GNU bash, version/);
    expect(report.checks.find((c) => c.name === 'runs dir')!.value).toBe(rig().runsDir);
    // The response cache lives in the user's cache folder ($XDG_CACHE_HOME here), not in the runs folder.
    expect(report.checks.find((c) => c.name === 'cache dir')!.value).toBe(`${rig().env().XDG_CACHE_HOME}/orchestrator (the user's cache folder)`);
    expect(doctor({ ORCH_CACHE_DIR: rig().path('c') }).report.checks.find((c) => c.name === 'cache dir')!.value).toBe(`${rig().path('c')} ($ORCH_CACHE_DIR)`);
    // `npm run build` made the helper where a C compiler was at hand: then it runs steps, else Node's spawn, saying why.
    const built = fs.existsSync(path.join(REPO, 'dist/native')) && fs.readdirSync(path.join(REPO, 'dist/native')).length > 0;
    expect(report.spawner).toBe(built ? 'posix_spawn helper' : 'node child_process');
    if (!built) expect(report.checks.find((c) => c.name === 'spawner')!.detail).toMatch(/no posix_spawn helper for/);
    const text = rig().run(['doctor']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(built ? /✓ spawner +posix_spawn helper/ : /✓ spawner +node child_process/);
  });

  it('says Node spawn is in use, and why, when $ORCH_SPAWNER=node chooses it; the job runs the same', () => {
    const { report } = doctor({ ORCH_SPAWNER: 'node' });
    expect(report.spawner).toBe('node child_process');
    expect(report.checks.find((c) => c.name === 'spawner')!.detail).toBe('why not the posix_spawn helper: $ORCH_SPAWNER=node');
    rig().write('spec.yaml', 'steps:\n  a:\n    run: echo hi\n');
    expect(rig().run(['run', 'spec.yaml'], { env: { ORCH_SPAWNER: 'node' } }).code).toBe(0);
    expect(rig().log('a')).toBe('hi\n');
  });

  it('a bad $ORCH_SPAWNER is a problem for doctor (exit 1) and a usage error for run, before any run folder', () => {
    const { code, report } = doctor({ ORCH_SPAWNER: 'fork' });
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'spawner')).toMatchObject({ state: 'problem', detail: '$ORCH_SPAWNER must be "native" or "node", not "fork"' });
    rig().write('spec.yaml', 'steps:\n  a:\n    run: "true"\n');
    const run = rig().run(['run', 'spec.yaml'], { env: { ORCH_SPAWNER: 'fork' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('$ORCH_SPAWNER must be "native" or "node", not "fork"');
    expect(rig().jobs()).toEqual([]);
  });

  it('a runs or cache folder a run could not use or make is a problem, with the reason (exit 1); one that can be made is not made', () => {
    rig().write('afile', '');
    const afile = rig().path('afile');
    const check = (args: string[], name: 'runs dir' | 'cache dir', env: Record<string, string> = {}) => {
      const r = rig().run(['doctor', '--json', ...args], { env });
      const report = JSON.parse(r.stdout) as Doctor;
      return { code: r.code, ok: report.ok, check: report.checks.find((c) => c.name === name)! };
    };
    expect(check(['--runs-dir', 'afile'], 'runs dir')).toEqual({ code: 1, ok: false, check: { name: 'runs dir', state: 'problem', value: afile, detail: `${afile} is a file, not a folder` } });
    expect(check(['--runs-dir', 'afile/x'], 'runs dir').check).toMatchObject({ state: 'problem', detail: `cannot be made: ${afile} is a file, not a folder` });
    expect(check(['--cache-dir', 'afile/x/y'], 'cache dir')).toMatchObject({ code: 1, check: { state: 'problem', value: `${afile}/x/y (--cache-dir)`, detail: `cannot be made: ${afile} is a file, not a folder` } });
    if (process.platform === 'linux') {
      expect(check([], 'runs dir', { ORCH_RUNS_DIR: '/proc/orch-nope' })).toMatchObject({ code: 1, check: { state: 'problem', detail: 'cannot be made: /proc does not let folders be made in it (ENOENT)' } });
      expect(check([], 'cache dir', { ORCH_CACHE_DIR: '/proc/orch-nope/cache' }).check).toMatchObject({ state: 'problem', detail: 'cannot be made: /proc does not let folders be made in it (ENOENT)' });
    }
    // The line marked ✗ and its reason, in the text too.
    const text = rig().run(['doctor', '--runs-dir', 'afile']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`✗ runs dir +${afile}\n +${afile} is a file, not a folder\n`));
    // A folder that can be made is fine, and is neither made nor left with anything beside it.
    expect(check(['--runs-dir', 'new/runs'], 'runs dir')).toMatchObject({ code: 0, ok: true, check: { state: 'ok', value: rig().path('new/runs'), detail: 'made at the first run' } });
    expect(rig().exists('new')).toBe(false);
    expect(fs.readdirSync(rig().dir).filter((n) => n.startsWith('.orch-doctor'))).toEqual([]);
  });

  it('a bash missing from PATH is a problem it names', () => {
    const { code, report } = doctor({ PATH: '/nonexistent' });
    expect(code).toBe(1);
    expect(report.checks.find((c) => c.name === 'bash')).toMatchObject({ state: 'problem', value: 'not found on PATH' });
  });
});
