// Folders made from paths a user gives (the runs folder, the cache folder): one that cannot be made is one clear line
// and exit 2 before any step runs — never a hang (Node's recursive mkdir loops forever on /proc/nope, deaf to
// Ctrl-C), never a bare EEXIST for a file in its place.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-folders-');
const SHELL = 'steps:\n  a:\n    run: echo hi >> ran\n';
const CACHED = 'steps:\n  a:\n    cache: {}\n    run: echo hi >> ran\n';

describe('a runs or cache folder that cannot be made', () => {
  it.runIf(process.platform === 'linux')('on a file system that refuses it (/proc) is exit 2 at once, for --runs-dir, $ORCH_RUNS_DIR and --cache-dir', async () => {
    rig().write('spec.yaml', SHELL);
    rig().write('cached.yaml', CACHED);
    const runs = await rig().runAsync(['run', 'spec.yaml', '--runs-dir', '/proc/orch-nope', '-q'], { timeoutMs: 20_000 });
    expect(runs).toMatchObject({ code: 2, stdout: '' });
    expect(runs.stderr).toBe('cannot create runs folder /proc/orch-nope: /proc does not let folders be made in it (mkdir /proc/orch-nope: ENOENT)\n');
    const fromEnv = await rig().runAsync(['run', 'spec.yaml'], { env: { ORCH_RUNS_DIR: '/proc/orch-nope/runs' }, timeoutMs: 20_000 });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toBe('cannot create runs folder /proc/orch-nope/runs: /proc does not let folders be made in it (mkdir /proc/orch-nope: ENOENT)\n');
    const cache = await rig().runAsync(['run', 'cached.yaml', '--cache-dir', '/proc/orch-nope'], { timeoutMs: 20_000 });
    expect(cache.code).toBe(2);
    expect(cache.stderr).toBe('cannot use the response cache /proc/orch-nope: /proc does not let folders be made in it (mkdir /proc/orch-nope: ENOENT) (choose another with --cache-dir or $ORCH_CACHE_DIR)\n');
    expect(rig().exists('ran')).toBe(false);
    expect(rig().jobs()).toEqual([]);
  });

  it('a file in its place, or above it, is said to be a file, not a folder (exit 2, no step run)', () => {
    rig().write('spec.yaml', SHELL);
    rig().write('cached.yaml', CACHED);
    rig().write('afile', '');
    const afile = rig().path('afile');
    for (const dir of ['afile', 'afile/x']) {
      const r = rig().run(['run', 'spec.yaml', '--runs-dir', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`cannot create runs folder ${rig().path(dir)}: ${afile} is a file, not a folder\n`);
      const c = rig().run(['run', 'cached.yaml', '--cache-dir', dir]);
      expect(c.code).toBe(2);
      expect(c.stderr).toBe(`cannot use the response cache ${rig().path(dir)}: ${afile} is a file, not a folder (choose another with --cache-dir or $ORCH_CACHE_DIR)\n`);
    }
    expect(rig().exists('ran')).toBe(false);
    expect(rig().jobs()).toEqual([]);
  });
});

describe('the folder of --junit or --summary that cannot be made', () => {
  it.runIf(process.platform === 'linux')('on a file system that refuses it (/proc) is said after the job, which is recorded: never a hang', async () => {
    rig().write('spec.yaml', SHELL);
    const junit = await rig().runAsync(['run', 'spec.yaml', '-q', '--junit', '/proc/orch-nope/junit.xml'], { timeoutMs: 20_000 });
    expect(junit.code).toBe(2);
    expect(junit.stderr).toBe('cannot write --junit /proc/orch-nope/junit.xml: /proc does not let folders be made in it (mkdir /proc/orch-nope: ENOENT)\n');
    const summary = await rig().runAsync(['run', 'spec.yaml', '-q', '--summary', '/proc/orch-nope/summary.md'], { timeoutMs: 20_000 });
    expect(summary.code).toBe(1);
    expect(summary.stderr).toBe('orchestrator: --summary /proc/orch-nope/summary.md: cannot write /proc/orch-nope: /proc does not let folders be made in it (mkdir /proc/orch-nope: ENOENT)\n');
    expect(rig().jobs()).toHaveLength(2);
    expect(rig().manifest().status).toBe('succeeded');
  });

  it('a cancelled job whose --junit cannot be written still ends as cancelled (130), as with --summary', async () => {
    rig().write('spec.yaml', 'steps:\n  a:\n    run: touch started; sleep 30\n');
    rig().write('afile', '');
    const child = spawn(process.execPath, [BIN, 'run', 'spec.yaml', '-q', '--junit', 'afile/junit.xml'], { cwd: rig().dir, env: rig().env(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    for (let i = 0; !rig().exists('started') && i < 600; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await code).toBe(130);
    expect(stderr).toContain(`cannot write --junit afile/junit.xml: ${rig().path('afile')} is a file, not a folder`);
  });

  it('under a file: that file is named', () => {
    rig().write('spec.yaml', SHELL);
    rig().write('afile', '');
    const junit = rig().run(['run', 'spec.yaml', '-q', '--junit', 'afile/junit.xml']);
    expect(junit.code).toBe(2);
    expect(junit.stderr).toBe(`cannot write --junit afile/junit.xml: ${rig().path('afile')} is a file, not a folder\n`);
    const summary = rig().run(['run', 'spec.yaml', '-q', '--summary', 'afile/x/summary.md']);
    expect(summary.code).toBe(1);
    expect(summary.stderr).toBe(`orchestrator: --summary afile/x/summary.md: cannot write ${rig().path('afile')}: ${rig().path('afile')} is a file, not a folder\n`);
  });
});

describe('--junit and --summary that name no file to write', () => {
  it.runIf(process.platform !== 'win32')('empty, a folder or a named pipe: said before any step runs (exit 2); a pipe no one reads held the process for good, deaf to Ctrl-C', () => {
    rig().write('spec.yaml', SHELL);
    fs.mkdirSync(rig().path('adir'));
    execFileSync('mkfifo', [rig().path('pipe')]);
    const cases: [string, string, string][] = [
      ['--junit', '', '--junit must name a file, not be empty'],
      ['--summary', '', '--summary must name a file, not be empty'],
      ['--junit', 'adir', '--junit adir is a folder: name a file'],
      ['--junit', 'pipe', '--junit pipe is a named pipe: name a file'],
      ['--summary', 'pipe', '--summary pipe is a named pipe: name a file'],
    ];
    for (const [option, file, said] of cases) {
      const r = rig().run(['run', 'spec.yaml', '-q', option, file], { timeoutMs: 20_000 });
      expect([r.code, r.stderr], `${option} ${file}`).toEqual([2, `${said}\n`]);
    }
    expect(rig().exists('ran')).toBe(false);
    expect(rig().jobs()).toEqual([]);
  });
});

describe('an empty runs or cache folder', () => {
  it('an empty $ORCH_RUNS_DIR is unset: run writes to ./runs, and show, list-runs and prune read it there', () => {
    rig().write('spec.yaml', SHELL);
    const env = { ORCH_RUNS_DIR: '' };
    expect(rig().run(['run', 'spec.yaml', '-q'], { env }).code).toBe(0);
    expect(rig().jobs()).toHaveLength(1);
    expect(rig().allFiles().filter((f) => !f.startsWith('runs/') && !f.startsWith('.cache/'))).toEqual(['ran', 'spec.yaml']);
    expect(rig().run(['show', 'latest'], { env })).toMatchObject({ code: 0, stderr: '' });
    expect(rig().run(['list-runs'], { env }).stdout).toContain(rig().latest());
    expect(rig().run(['prune', '--keep', '0', '--dry-run'], { env }).stdout).toContain('would remove 1 run');
  });

  it('an empty --runs-dir or --cache-dir is a usage error (exit 2) in every command that takes it, before anything is written', () => {
    rig().write('spec.yaml', SHELL);
    expect(rig().run(['run', 'spec.yaml', '-q']).code).toBe(0);
    const commands = [['run', 'spec.yaml'], ['resume', 'latest'], ['rerun', 'latest'], ['validate', 'spec.yaml'], ['graph', 'spec.yaml'], ['show', 'latest'], ['list-runs'], ['report', 'latest'], ['prune', '--keep', '0'], ['cache', 'stats'], ['ui', '--port', '0'], ['doctor']];
    for (const args of commands) {
      const r = rig().run([...args, '--runs-dir', ''], { timeoutMs: 20_000 });
      expect(r, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toContain("option '--runs-dir <dir>' argument '' is invalid. must name a folder, not be empty");
    }
    for (const args of [['run', 'spec.yaml'], ['resume', 'latest'], ['rerun', 'latest'], ['cache', 'stats'], ['doctor']]) {
      const r = rig().run([...args, '--cache-dir', ''], { timeoutMs: 20_000 });
      expect(r, args.join(' ')).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toContain("option '--cache-dir <dir>' argument '' is invalid. must name a folder, not be empty");
    }
    expect(rig().jobs()).toHaveLength(1);
    expect(rig().run(['list-runs']).stdout).toContain(rig().latest());
    expect(rig().exists('ran')).toBe(true);
    expect(rig().allFiles().filter((f) => !f.startsWith('runs/') && !f.startsWith('.cache/'))).toEqual(['ran', 'spec.yaml']);
  });
});
