// Issue 2, "done when": the example runs, show / list-runs / graph / validate tell what happened (plain and
// --json), every file the manifest lists hashes to its SHA-256, and independent steps really run in parallel.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, CliRig, REPO, sha256File, spawnersBuilt, useCliRig, type CliResult } from '../helpers/cli.js';

const TINY = path.join(REPO, 'examples/tiny_spec.yaml');
const OUTPUTS = path.join(REPO, 'examples/outputs_spec.yaml');

describe('the main example, then show / list-runs', () => {
  let rig: CliRig;
  let run: CliResult;
  beforeAll(() => {
    assertBuilt();
    rig = new CliRig('orch-example-');
    run = rig.run(['run', TINY]);
  });
  afterAll(() => rig.cleanup());

  it('runs green and prints one line per event, then a summary', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const job = rig.latest();
    expect(run.stdout).toContain(job);
    for (const step of ['architect', 'builder', 'docs', 'qa']) expect(run.stdout).toMatch(new RegExp(`ok\\s+${step}\\b`));
    expect(run.stdout).toMatch(/succeeded in .*: 4 succeeded, 0 failed, 0 skipped/);
  });

  it('writes the run folder of SPEC §4', () => {
    const m = rig.manifest();
    expect(m).toMatchObject({ schema_version: 1, job_id: rig.latest(), name: 'tiny-notes', status: 'succeeded', concurrency: 2 });
    expect(m.spec).toEqual({ path: TINY, sha256: sha256File(TINY) });
    expect(Date.parse(m.started_at)).toBeLessThanOrEqual(Date.parse(m.finished_at!));
    expect(m.duration_s).toBeGreaterThan(0);
    // Which process held the pid (on Linux): a later one under the same pid is not the job's.
    if (process.platform === 'linux') expect(m.pid_start).toMatch(/^[0-9a-f-]{36}\/\d+$/);
    for (const id of ['architect', 'builder', 'docs', 'qa']) {
      expect(m.steps[id]).toMatchObject({ status: 'succeeded', attempts: 1, exit_code: 0, cached: false, reused: false, error: null });
    }
    expect(fs.readFileSync(rig.runPath('inputs/spec.yaml'), 'utf8')).toBe(fs.readFileSync(TINY, 'utf8'));
    expect(rig.output('architect')).toMatchObject({ status: 'succeeded', exit_code: 0, attempts: 1, cached: false, outputs: { service: 'notes' } });
    expect(rig.output('builder').outputs.server).toBe(rig.runPath('artifacts/builder/server.mjs'));
    expect(rig.log('qa')).toMatch(/^qa passed against http:\/\/127\.0\.0\.1:\d+/);
    expect(fs.readFileSync(rig.runPath('artifacts/docs/API.md'), 'utf8')).toContain('| POST | /notes |');
  });

  it('lists every file of the run folder in the manifest, each with its real SHA-256 and size', () => {
    const m = rig.manifest();
    const onDisk = listFiles(rig.runPath()).filter((p) => p !== 'manifest.json' && p !== 'events.jsonl');
    expect(m.files.map((f) => f.path).sort()).toEqual(onDisk);
    expect(onDisk).toEqual(expect.arrayContaining(['inputs/spec.yaml', 'logs/qa.log', 'outputs/qa.json', 'artifacts/builder/server.mjs']));
    for (const f of m.files) {
      const file = rig.runPath(f.path);
      expect(sha256File(file), f.path).toBe(f.sha256);
      expect(fs.statSync(file).size, f.path).toBe(f.size_bytes);
    }
  });

  it('journals events with ts, seq 1…n, job_id, step and attempt', () => {
    const events = rig.events();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const e of events) {
      expect(e.job_id).toBe(rig.latest());
      expect(new Date(e.ts).toISOString()).toBe(e.ts);
    }
    expect(events[0]!.type).toBe('job.started');
    expect(events.at(-1)).toMatchObject({ type: 'job.finished', status: 'succeeded' });
    const started = events.filter((e) => e.type === 'step.started');
    expect(started.map((e) => e.step)).toEqual(['architect', expect.any(String), expect.any(String), 'qa']);
    for (const e of started) expect(e.attempt).toBe(1);
    // qa starts only after both of its needs succeeded.
    const seqOf = (type: string, step: string) => events.find((e) => e.type === type && e.step === step)!.seq;
    expect(seqOf('step.started', 'qa')).toBeGreaterThan(seqOf('step.succeeded', 'builder'));
    expect(seqOf('step.started', 'qa')).toBeGreaterThan(seqOf('step.succeeded', 'docs'));
  });

  it('show latest: the summary table', () => {
    const r = rig.run(['show', 'latest']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`tiny-notes  ${rig.latest()}  succeeded`);
    expect(r.stdout).toMatch(/^qa\s+succeeded\s+1\s+\S+\s+30\.0s\s+0\s*$/m);
  });

  it('show latest --events: one line per event', () => {
    const r = rig.run(['show', 'latest', '--events']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(rig.events().length);
    expect(lines[0]).toMatch(/job\s+tiny-notes/);
    expect(lines.at(-1)).toMatch(/job\s+succeeded in/);
  });

  it('show latest --files: every file with its size and SHA-256', () => {
    const r = rig.run(['show', 'latest', '--files']);
    expect(r.code).toBe(0);
    for (const f of rig.manifest().files) expect(r.stdout).toMatch(new RegExp(`^${escapeRe(f.path)}\\s+${f.size_bytes}\\s+${f.sha256}$`, 'm'));
  });

  it('show --logs <step>, and an unknown step with a did-you-mean', () => {
    const r = rig.run(['show', 'latest', '--logs', 'qa']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(rig.log('qa'));
    const bad = rig.run(['show', 'latest', '--logs', 'qq']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has no step "qq" \(did you mean "qa"\?\)/);
  });

  it('show --json is the manifest; with --events it adds the journal', () => {
    const r = rig.run(['show', 'latest', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(rig.manifest());
    const withEvents = JSON.parse(rig.run(['show', rig.latest(), '--events', '--json']).stdout) as { events: unknown[]; job_id: string };
    expect(withEvents.job_id).toBe(rig.latest());
    expect(withEvents.events).toEqual(rig.events());
  });

  it('list-runs: plain and --json', () => {
    const r = rig.run(['list-runs']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${rig.latest()}\\s+tiny-notes\\s+succeeded\\s+.*4/4\\s*$`, 'm'));
    const rows = JSON.parse(rig.run(['list-runs', '--json']).stdout) as unknown[];
    const m = rig.manifest();
    expect(rows).toEqual([{ job_id: m.job_id, name: 'tiny-notes', status: 'succeeded', started_at: m.started_at, duration_s: m.duration_s }]);
  });
});

describe('run --json, failures, list-runs filters', () => {
  const rig = useCliRig('orch-run-');

  it('run --json: the manifest alone on stdout, progress on stderr', () => {
    rig().write('ok.yaml', 'steps:\n  a:\n    run: echo hello\n');
    const r = rig().run(['run', 'ok.yaml', '--json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as { job_id: string; status: string };
    expect(m).toEqual(rig().manifest());
    expect(m.status).toBe('succeeded');
    expect(r.stderr).toMatch(/ok\s+a/);
  });

  it('a reader that stops reading (run … | head -1) does not end the job: its steps finish, it is recorded, run exits with its code', () => {
    rig().write('piped.yaml', 'steps:\n  a:\n    run: sleep 0.5\n  b:\n    needs: [a]\n    run: echo b > b-ran; exit 3\n');
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" run piped.yaml | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`], { cwd: rig().dir, env: rig().env(), encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toContain('exit=1');
    expect(rig().exists('b-ran')).toBe(true);
    expect(rig().manifest()).toMatchObject({ status: 'failed', steps: { a: { status: 'succeeded' }, b: { status: 'failed', exit_code: 3 } } });
  });

  it('a failing step: exit 1, its dependents skipped, the error in show and the summary', () => {
    rig().write('fail.yaml', 'steps:\n  build:\n    run: echo compiling; echo "boom" >&2; exit 3\n  test:\n    needs: [build]\n    run: echo never\n  lint:\n    run: echo fine\n');
    const r = rig().run(['run', 'fail.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failed in .*: 1 succeeded, 1 failed, 1 skipped/);
    expect(r.stdout).toContain('build: exit: exited with code 3');
    expect(r.stdout).toContain('│ boom');
    const m = rig().manifest();
    expect(m.status).toBe('failed');
    expect(m.steps.build).toMatchObject({ status: 'failed', exit_code: 3, error: { code: 'exit', message: 'exited with code 3' } });
    expect(m.steps.test).toMatchObject({ status: 'skipped', attempts: 0, error: { code: 'skipped', message: 'need "build" failed' } });
    expect(m.steps.lint!.status).toBe('succeeded');
    // stdout and stderr reach the log through different pipes: both are there, their order is not guaranteed.
    expect(rig().log('build').split('\n').sort()).toEqual(['', 'boom', 'compiling']);
    const show = rig().run(['show', 'latest']);
    expect(show.stdout).toMatch(/^build\s+failed\s+1\s+\S+\s+6h \(default\)\s+3\s+exit: exited with code 3$/m);

    rig().write('ok.yaml', 'steps:\n  a:\n    run: "true"\n');
    expect(rig().run(['run', 'ok.yaml']).code).toBe(0);
    const failed = JSON.parse(rig().run(['list-runs', '--status', 'failed', '--json']).stdout) as { name: string }[];
    expect(failed.map((x) => x.name)).toEqual(['fail']);
    const newestFirst = JSON.parse(rig().run(['list-runs', '--json']).stdout) as { name: string }[];
    expect(newestFirst.map((x) => x.name)).toEqual(['ok', 'fail']);
    const limited = JSON.parse(rig().run(['list-runs', '--json', '--limit', '1']).stdout) as unknown[];
    expect(limited).toHaveLength(1);
  });

  it('shell: sh runs with -e, as bash with -e -o pipefail (and GitHub Actions): a failing command fails the step; a shell given by path gets -c alone', () => {
    const script = 'run: false; echo continued';
    rig().write('sh.yaml', `steps:\n  bash:\n    ${script}\n  sh:\n    shell: sh\n    ${script}\n  path:\n    shell: /bin/sh\n    ${script}\n`);
    expect(rig().run(['run', 'sh.yaml']).code).toBe(1);
    expect(rig().manifest().steps).toMatchObject({ bash: { status: 'failed', exit_code: 1 }, sh: { status: 'failed', exit_code: 1 }, path: { status: 'succeeded' } });
    expect(fs.existsSync(rig().runPath('logs/sh.log'))).toBe(false); // stopped before its echo
    expect(rig().log('path')).toBe('continued\n');
  });

  it('a step that prints nothing has no log; stdout and stderr reach a log in the order they were written', () => {
    // Each line is written once the one before it has reached the log (the log is written as output comes): the
    // order holds however loaded the machine, where sleeps between the lines did not.
    const waitFor = (line: string) => `      until grep -qx ${line} "$ORCH_RUN_DIR/logs/mixed.log" 2>/dev/null; do sleep 0.01; done\n`;
    rig().write('logs.yaml', `steps:\n  quiet:\n    run: "true"\n  mixed:\n    run: |\n      echo one\n${waitFor('one')}      echo two >&2\n${waitFor('two')}      echo three\n`);
    expect(rig().run(['run', 'logs.yaml']).code).toBe(0);
    expect(fs.existsSync(rig().runPath('logs/quiet.log'))).toBe(false);
    expect(rig().manifest().files.map((f) => f.path)).not.toContain('logs/quiet.log');
    expect(rig().run(['show', 'latest', '--logs', 'quiet']).stdout).toBe('step "quiet" has no log (it printed nothing)\n');
    expect(rig().log('mixed')).toBe('one\ntwo\nthree\n');
    expect(rig().output('mixed').text).toBe('one\nthree');
  });

  // Both read what the child sees from Linux's /proc (and GNU ps); elsewhere they are skipped.
  it.skipIf(process.platform !== 'linux').each(spawnersBuilt())("a step's process starts as from a shell (%s spawner): own session, stdin from /dev/null, default signals, its env and cwd; or fails saying why", (spawner) => {
    // Steps start through posix_spawn (native/spawn.c) or Node's spawn (src/process/spawner.ts): the child sees the same.
    fs.mkdirSync(rig().path('sub'), { recursive: true });
    rig().write(
      'proc.yaml',
      [
        'env: { GREETING: hi }',
        'steps:',
        '  probe:',
        '    cwd: sub',
        '    run: |',
        '      read -r stat < /proc/$$/stat; set -- ${stat##*) }',
        '      echo "pid=$$ pgrp=$3 session=$4"',
        '      echo "stdin=$(readlink /proc/$$/fd/0) cwd=$(pwd) greeting=$GREETING"',
        '  direct:',
        '    run: cat /proc/self/status /proc/self/environ',
        '  no-shebang:',
        '    run: ./plain-script arg',
        '  no-shell:',
        '    shell: /nonexistent/shell',
        '    run: echo unreachable',
        '  no-cwd:',
        '    cwd: missing-folder',
        '    run: "true"',
        '',
      ].join('\n'),
    );
    rig().write('plain-script', 'echo "a script without #! ran with $1"\n');
    fs.chmodSync(rig().path('plain-script'), 0o755);
    expect(rig().run(['run', 'proc.yaml'], { env: { ORCH_SPAWNER: spawner } }).code).toBe(1);
    expect(rig().log('no-shebang')).toBe('a script without #! ran with arg\n'); // as bash runs it
    const log = rig().log('probe');
    const [, pid, pgrp, session] = /pid=(\d+) pgrp=(\d+) session=(\d+)/.exec(log)!;
    expect([pgrp, session]).toEqual([pid, pid]);
    expect(log).toContain(`stdin=/dev/null cwd=${fs.realpathSync(rig().path('sub'))} greeting=hi`);
    // A plain command is exec'd with no shell between (src/process/direct.ts): what it sees is what we gave it.
    const direct = rig().log('direct');
    // Node ignores SIGPIPE; the step must not. (glibc's posix_spawn leaves its own two internal signals,
    // 32 and 33, ignored in every program it starts, make's included: no program can use them.)
    const ignored = BigInt(`0x${/^SigIgn:\t([0-9a-f]+)$/m.exec(direct)![1]}`);
    expect(ignored & ~0x180000000n).toBe(0n);
    expect(direct).toContain('SigBlk:\t0000000000000000');
    expect(direct.split('\0')).toContain('GREETING=hi');
    const steps = rig().manifest().steps;
    expect(steps['no-shell']).toMatchObject({ status: 'failed', error: { code: 'spawn', message: 'cannot start /nonexistent/shell: spawn /nonexistent/shell ENOENT' } });
    expect(steps['no-cwd']).toMatchObject({ status: 'failed', error: { code: 'spawn', message: `working directory ${rig().path('missing-folder')} does not exist` } });
  });

  it('a plain command run without bash (src/process/direct.ts) sees what bash would give it: the PWD of its cwd, $_; builtins whose binaries differ stay with bash', () => {
    fs.mkdirSync(rig().path('sub'), { recursive: true });
    const both = (id: string, script: string) => `  ${id}:\n    cwd: sub\n    run: ${script}\n  ${id}-bash:\n    cwd: sub\n    run: ${script} && true\n`;
    rig().write('plain.yaml', `steps:\n${both('pwd', 'printenv PWD')}${both('under', 'printenv _')}  echo-version:\n    run: echo --version\n  true-help:\n    run: true --help\n`);
    const r = rig().run(['run', 'plain.yaml']);
    expect(r.code, r.stderr).toBe(0);
    // Before, PWD was the orchestrator's own folder: a Makefile's $(PWD) in a step's cwd named the wrong folder.
    expect(rig().log('pwd')).toBe(`${fs.realpathSync(rig().path('sub'))}\n`);
    expect(rig().log('pwd')).toBe(rig().log('pwd-bash'));
    expect(rig().log('under')).toBe(rig().log('under-bash'));
    // bash's builtins, not coreutils' (which print their version and help).
    expect(rig().log('echo-version')).toBe('--version\n');
    expect(rig().output('true-help').text).toBe('');
  });

  it.skipIf(process.platform !== 'linux').each(spawnersBuilt())('after hundreds of steps the orchestrator holds no pipe and no unreaped child of theirs (%s spawner)', (spawner) => {
    // Every step's pipes are closed and its process reaped (src/process/native-spawn.ts): a last step
    // looks at its parent, the orchestrator, from inside. ORCH_LAUNCHER=local: steps start in-process.
    const ids = Array.from({ length: 300 }, (_, i) => `s${i}`);
    const steps = ids.map((id) => `  ${id}:\n    run: "true"\n`).join('');
    const probe = `  probe:\n    needs: [${ids.join(', ')}]\n    run: ls /proc/$PPID/fd | wc -l; ps -o stat=,args= --ppid $PPID | grep -v '[t]rap'\n`;
    rig().write('many.yaml', `concurrency: 4\nsteps:\n${steps}${probe}`);
    expect(rig().run(['run', 'many.yaml'], { env: { ORCH_LAUNCHER: 'local', ORCH_SPAWNER: spawner } }).code).toBe(0);
    const [fds, ...children] = rig().log('probe').trim().split('\n');
    expect(Number(fds)).toBeLessThan(40); // stdio, the journal, libuv's own: not 2 × 300 pipes
    expect(children).toHaveLength(1); // only the probe's own shell (the watchdog's /bin/sh, whose script starts with `trap`, is left out above: process/watchdog.ts)
    expect(children[0]!.trim()).not.toMatch(/^Z/); // and it is no zombie
  });

  it('ready steps go by the ranking the last run left in the history, at the concurrency it was made for', () => {
    rig().write('order.yaml', 'concurrency: 1\nsteps:\n  a:\n    run: "true"\n  b:\n    run: "true"\n  c:\n    run: "true"\n');
    const started = () => rig().events().filter((e) => e.type === 'step.started').map((e) => e.step);
    expect(rig().run(['run', 'order.yaml']).code).toBe(0);
    expect(started()).toEqual(['a', 'b', 'c']); // equal durations: spec order
    const dir = rig().path('runs/.history');
    const [file] = fs.readdirSync(dir);
    const history = JSON.parse(fs.readFileSync(path.join(dir, file!), 'utf8'));
    expect(Object.keys(history.steps).sort()).toEqual(['a', 'b', 'c']);
    const equal = { a: 0.01, b: 0.01, c: 0.01 }; // recorded durations alone would keep spec order
    fs.writeFileSync(path.join(dir, file!), JSON.stringify({ ...history, steps: equal, plan: { concurrency: 1, ratio: 1, rank: { a: 1, b: 3, c: 2 } } }));
    expect(rig().run(['run', 'order.yaml']).code).toBe(0);
    expect(started()).toEqual(['b', 'c', 'a']);
    fs.writeFileSync(path.join(dir, file!), JSON.stringify({ ...history, steps: equal, plan: { concurrency: 2, ratio: 1, rank: { a: 1, b: 3, c: 2 } } }));
    expect(rig().run(['run', 'order.yaml']).code).toBe(0);
    expect(started()).toEqual(['a', 'b', 'c']); // made for another concurrency: not used
  });

  it('list-runs with no runs yet', () => {
    const r = rig().run(['list-runs']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no runs in .* yet/);
    expect(JSON.parse(rig().run(['list-runs', '--json']).stdout)).toEqual([]);
  });

  it('--runs-dir wins over $ORCH_RUNS_DIR', () => {
    rig().write('ok.yaml', 'steps:\n  a:\n    run: "true"\n');
    expect(rig().run(['run', 'ok.yaml', '--runs-dir', 'elsewhere']).code).toBe(0);
    expect(rig().exists('runs')).toBe(false);
    expect(fs.readdirSync(rig().path('elsewhere')).filter((n) => /^\d{8}-\d{6}-\d{3}-/.test(n))).toHaveLength(1);
    expect(rig().run(['show', 'latest', '--runs-dir', 'elsewhere']).code).toBe(0);
  });

  it('two independent `sleep 1` steps at concurrency 2 take about 1 s, not 2', () => {
    rig().write('par.yaml', 'steps:\n  one:\n    run: sleep 1\n  two:\n    run: sleep 1\n');
    const r = rig().run(['run', 'par.yaml', '--concurrency', '2']);
    expect(r.code).toBe(0);
    const m = rig().manifest();
    expect(m.concurrency).toBe(2);
    expect(m.duration_s).toBeGreaterThanOrEqual(1);
    // They overlapped: each started before the other finished (what a bound on the job's time asked, without
    // failing when a loaded machine pauses the job for most of a second).
    const [one, two] = [m.steps.one!, m.steps.two!];
    expect(Date.parse(one.started_at!)).toBeLessThan(Date.parse(two.finished_at!));
    expect(Date.parse(two.started_at!)).toBeLessThan(Date.parse(one.finished_at!));
  });

  it('at concurrency 1 the same steps run one after the other', () => {
    rig().write('seq.yaml', 'steps:\n  one:\n    run: sleep 0.3\n  two:\n    run: sleep 0.3\n');
    expect(rig().run(['run', 'seq.yaml', '--concurrency', '1']).code).toBe(0);
    const m = rig().manifest();
    const [first, second] = [m.steps.one!, m.steps.two!].sort((a, b) => Date.parse(a.started_at!) - Date.parse(b.started_at!));
    expect(Date.parse(second!.started_at!)).toBeGreaterThanOrEqual(Date.parse(first!.finished_at!));
  });

  // Bug (scheduler.ts): every in-flight attempt adds an abort listener to the job's stop signal, so Node prints a
  // MaxListenersExceededWarning on stderr from 11 concurrent steps on. Fix: setMaxListeners(0, stop.signal).
  it('prints no warning with more than ten steps in flight', () => {
    const steps = Array.from({ length: 12 }, (_, i) => `  s${i}:\n    run: sleep 0.2\n`).join('');
    rig().write('wide.yaml', `steps:\n${steps}`);
    const r = rig().run(['run', 'wide.yaml', '--concurrency', '12']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/MaxListenersExceededWarning/);
  });

  it('Ctrl-C while a step waits to retry: one attempt ran, and the manifest, show, its outputs file and its event all say 1', async () => {
    rig().write('wait.yaml', 'steps:\n  flaky:\n    retry: { attempts: 3, delay: 30s }\n    run: exit 1\n');
    const child = spawn(process.execPath, [BIN, 'run', 'wait.yaml'], { cwd: rig().dir, env: rig().env(), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const waiting = () => rig().jobs().length > 0 && fs.existsSync(rig().runPath('events.jsonl')) && rig().events().some((e) => e.type === 'step.retrying');
    for (const end = Date.now() + 60_000; !waiting() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    // Before, the manifest (and show) said 2 attempts, from the step.retrying event; attempt 2 never ran.
    expect(rig().manifest().steps.flaky).toMatchObject({ status: 'cancelled', attempts: 1, error: { code: 'cancelled', message: 'cancelled before attempt 2' } });
    expect(rig().output('flaky').attempts).toBe(1);
    expect(rig().events().find((e) => e.type === 'step.cancelled')).toMatchObject({ step: 'flaky', attempt: 1 });
    const shown = JSON.parse(rig().run(['show', 'latest', '--json']).stdout) as { steps: Record<string, { attempts: number }> };
    expect(shown.steps.flaky!.attempts).toBe(1);
  });
});

describe('step ids that are also Object.prototype names', () => {
  const rig = useCliRig('orch-ids-');

  // Bug (store/manifest.ts, ManifestBuilder.emit): `m.steps[e.step] ??= pendingStep()` finds the inherited
  // Object.prototype.toString, so the step never gets a record (and the event is assigned onto the shared function).
  // Fix: make `steps` a null-prototype object, or test Object.hasOwn(m.steps, e.step) first.
  it('a step called toString is recorded in the manifest like any other', () => {
    rig().write('ids.yaml', 'steps:\n  toString:\n    run: echo "v=1" >> "$ORCH_OUTPUT"\n  b:\n    needs: [toString]\n    run: echo "${{ steps.toString.outputs.v }}"\n');
    expect(rig().run(['run', 'ids.yaml']).code).toBe(0);
    expect(rig().output('b').text).toBe('1');
    expect(Object.keys(rig().manifest().steps).sort()).toEqual(['b', 'toString']);
  });
});

describe('graph and validate', () => {
  const rig = useCliRig('orch-graph-');

  it('graph: Mermaid by default, with safe node ids (a step may be called `end`)', () => {
    rig().write('g.yaml', 'steps:\n  start:\n    run: echo\n  end:\n    needs: [start]\n    run: echo\n  graph:\n    needs: [start, end]\n    run: echo\n');
    const r = rig().run(['graph', 'g.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(['flowchart LR', '  n0["start"]', '  n1["end"]', '  n2["graph"]', '  n0 --> n1', '  n0 --> n2', '  n1 --> n2', ''].join('\n'));
  });

  it('graph --format dot', () => {
    const r = rig().run(['graph', TINY, '--format', 'dot']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^digraph "tiny-notes" \{\n/);
    for (const edge of ['"architect" -> "builder"', '"architect" -> "docs"', '"builder" -> "qa"', '"docs" -> "qa"']) expect(r.stdout).toContain(`  ${edge};`);
    expect(r.stdout.trimEnd().endsWith('}')).toBe(true);
    expect(rig().run(['graph', TINY, '--format', 'svg']).code).toBe(2);
  });

  it('validate: ok, plain and --json, and creates no run folder', () => {
    const r = rig().run(['validate', TINY]);
    expect(r).toEqual({ code: 0, stdout: `${TINY}: ok (4 steps)\n`, stderr: '' });
    const json = JSON.parse(rig().run(['validate', OUTPUTS, '--json']).stdout) as unknown;
    expect(json).toEqual({ ok: true, file: OUTPUTS, name: 'outputs-demo', steps: 4, problems: [] });
    expect(rig().exists('runs')).toBe(false);
  });

  it('validate names the step and position of a bad reference', () => {
    const text = 'steps:\n  build:\n    run: echo built\n  docs:\n    run: echo docs\n  deploy:\n    needs: [build]\n    run: |\n      echo deploying\n      echo "${{ steps.docs.outputs.url }}"\n';
    rig().write('ref.yaml', text);
    const r = rig().run(['validate', 'ref.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'ref.yaml:10:17: steps.deploy.run: step "deploy" reads steps.docs but does not need it (add "docs" to its needs, directly or through another step)',
    );
  });
});

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
