// The fault suite (issue 4: nothing lost, nothing hung; issue 14: every fault ends recorded and explained). Black-box: the built binary in temp dirs, real processes, real signals.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnersBuilt } from './cli.js';
import { isAlive } from './process-state.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/orchestrator.js');
let dir: string;
let runsDir: string;
/** Which process starts the steps: this one (small jobs) or the launcher process (large jobs); both must hold. */
let launcher = 'local';
/** How a step's process starts: the posix_spawn helper or Node's child_process.spawn; both must hold. */
let spawner = spawnersBuilt()[0]!;
/**
 * The grace between SIGTERM and SIGKILL ($ORCH_KILL_GRACE_MS) for this suite's jobs: 1 s rather than the default
 * 5 s, which would otherwise be waited out dozens of times; a test of the default sets it to undefined.
 */
const SHORT_GRACE_MS = 1000;
let graceMs: number | undefined = SHORT_GRACE_MS;
const env = () => ({
  PATH: process.env.PATH!,
  HOME: dir,
  NO_COLOR: '1',
  ORCH_RUNS_DIR: runsDir,
  ORCH_LAUNCHER: launcher,
  ORCH_SPAWNER: spawner,
  FAULT_TOKEN: 'sk-fault-0123456789',
  ...(graceMs === undefined ? {} : { ORCH_KILL_GRACE_MS: String(graceMs) }),
});


function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: env(), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function start(...args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
}
function spec(text: string, name = 'spec.yaml'): string {
  fs.writeFileSync(path.join(dir, name), text);
  return name;
}
function jobs(): string[] {
  return fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((n) => /^\d{8}-/.test(n)).sort() : [];
}
function manifest(job: string) {
  return JSON.parse(fs.readFileSync(path.join(runsDir, job, 'manifest.json'), 'utf8'));
}
function events(job: string): { type: string; step?: string; [k: string]: unknown }[] {
  return fs.readFileSync(path.join(runsDir, job, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
/** Every file under `root`; undefined when a folder in it was removed while it was listed (look again). */
function filesUnder(root: string): string[] | undefined {
  try {
    return (fs.readdirSync(root, { recursive: true }) as string[]).map((f) => path.join(root, f)).filter((f) => fs.statSync(f, { throwIfNoEntry: false })?.isFile());
  } catch {
    return undefined; // the watchdog removing .work/ as we list it
  }
}
async function until(what: string, test: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
/** A `run:` script that backgrounds a grandchild, records its pid in gc.pid, and hangs. */
const hangWithGrandchild = () => `|
        sleep 30 &
        echo $! > ${dir}/gc.pid
        sleep 30`;
/** The grandchild's pid, once the step has written it. */
async function grandchildPid(): Promise<number> {
  const file = path.join(dir, 'gc.pid');
  await until('the step to start', () => fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '');
  return Number(fs.readFileSync(file, 'utf8'));
}
const exited = (p: ChildProcess) => new Promise<number | null>((r) => p.on('exit', (code, sig) => r(code ?? (sig ? 128 : null))));

/**
 * Define the fault tests for steps started by one kind of launcher (`local`: from the orchestrator's own
 * process; `process`: from the launcher program), with every spawner this build has. Two test files take one
 * kind each, so that the suite's slowest part runs on both cores.
 */
export function defineFaultSuite(launcherKind: 'local' | 'process'): void {
// Registered by each file that defines the suite: two files share this module when they share a worker.
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-faults-'));
  runsDir = path.join(dir, 'runs');
  graceMs = SHORT_GRACE_MS;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
// (Not indented: the YAML in the tests' template literals is whitespace-sensitive.)
describe.each(spawnersBuilt().map((how) => [launcherKind, how]))('steps started by the %s launcher with the %s spawner', (which, how) => {
  beforeEach(() => {
    launcher = which;
    spawner = how;
  });
  afterEach(() => {
    launcher = 'local';
    spawner = spawnersBuilt()[0]!;
  });

  describe('retries', () => {
    it('retries a failing step with backoff, records step.retrying and attempts', () => {
      spec(`
  steps:
    flaky:
      retry: { attempts: 3, delay: 50ms, backoff: exponential, max_delay: 1s }
      run: |
        n=$(cat ${dir}/n 2>/dev/null || echo 0); echo $((n+1)) > ${dir}/n
        [ "$n" -ge 2 ]
  `);
      const r = cli('run', 'spec.yaml');
      expect(r.code).toBe(0);
      const [job] = jobs();
      const retrying = events(job!).filter((e) => e.type === 'step.retrying');
      expect(retrying.map((e) => [e.attempt, e.delay_s])).toEqual([[2, 0.05], [3, 0.1]]);
      expect(manifest(job!).steps.flaky).toMatchObject({ status: 'succeeded', attempts: 3 });
    });

    it('gives up after the last attempt and fails the job', () => {
      spec(`steps:\n  bad:\n    retry: 2\n    run: exit 3\n`);
      const r = cli('run', 'spec.yaml');
      expect(r.code).toBe(1);
      expect(manifest(jobs()[0]!).steps.bad).toMatchObject({ status: 'failed', attempts: 2, exit_code: 3, error: { code: 'exit' } });
    });
  });

  describe('timeouts', () => {
    it('kills the whole process tree, grandchildren included, at the step timeout', async () => {
      spec(`
  steps:
    hang:
      timeout: 500ms
      run: |
        sleep 30 &
        echo $! > ${dir}/grandchild.pid
        sleep 30
  `);
      const t0 = Date.now();
      const r = cli('run', 'spec.yaml');
      expect(r.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(manifest(jobs()[0]!).steps.hang.error).toMatchObject({ code: 'timeout' });
      const gc = Number(fs.readFileSync(path.join(dir, 'grandchild.pid'), 'utf8'));
      await until('the grandchild to die', () => !isAlive(gc), 3000);
    });

    it('SIGKILLs a step that ignores SIGTERM after the kill grace ($ORCH_KILL_GRACE_MS: 1 s here)', () => {
      spec(`
  steps:
    stubborn:
      timeout: 300ms
      run: trap '' TERM; sleep 30; sleep 30
  `);
      const r = cli('run', 'spec.yaml');
      expect(r.code).toBe(1);
      // The step's own span, from its start to its end as recorded: the orchestrator's start and exit, which a
      // loaded machine stretches, are not in it.
      const step = manifest(jobs()[0]!).steps.stubborn;
      const took = Date.parse(step.finished_at) - Date.parse(step.started_at);
      expect(took).toBeGreaterThan(300 + SHORT_GRACE_MS);
      expect(took).toBeLessThan(4500); // well before the default 5 s grace
      expect(step.error.code).toBe('timeout');
    }, 20_000);

    it('kills a step that prints nothing for idle_timeout', () => {
      spec(`
  steps:
    wedged:
      idle_timeout: 400ms
      run: echo started; sleep 30
  `);
      const r = cli('run', 'spec.yaml');
      expect(r.code).toBe(1);
      const s = manifest(jobs()[0]!).steps.wedged;
      expect(s.error.code).toBe('idle-timeout');
      expect(fs.readFileSync(path.join(runsDir, jobs()[0]!, 'logs/wedged.log'), 'utf8')).toContain('started');
    });

    it('a chatty step is not idle', () => {
      spec(`
  steps:
    chatty:
      idle_timeout: 400ms
      run: for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.15; done
  `);
      expect(cli('run', 'spec.yaml').code).toBe(0);
    });

    it('the job timeout stops running steps and fails the job', () => {
      spec(`
  timeout: 600ms
  steps:
    slow:
      run: sleep 30
    after:
      needs: [slow]
      run: echo never
  `);
      const r = cli('run', 'spec.yaml');
      expect(r.code).toBe(1);
      const m = manifest(jobs()[0]!);
      expect(m.status).toBe('failed');
      expect(m.steps.slow).toMatchObject({ status: 'cancelled', error: { code: 'timeout' } });
      expect(m.steps.after.status).toBe('cancelled');
    });
  });

  describe('cancellation', () => {
    // SIGHUP: a closed terminal or a lost SSH session cancels like the others (issue 14).
    it.each(['SIGINT', 'SIGHUP'] as const)('%s cancels running steps, kills their trees, records cancelled, exits 130', async (sig) => {
      spec(`
  steps:
    long:
      run: ${hangWithGrandchild()}
    later:
      needs: [long]
      run: echo never
  `);
      const p = start('run', 'spec.yaml');
      let stderr = '';
      p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = exited(p);
      const gc = await grandchildPid();
      p.kill(sig);
      expect(await code).toBe(130);
      expect(stderr).toContain(`${sig}: cancelling running steps`);
      const job = jobs()[0]!;
      const m = manifest(job);
      expect(m.status).toBe('cancelled');
      expect(m.steps.long.status).toBe('cancelled');
      expect(m.steps.later.status).toBe('cancelled');
      expect(events(job).some((e) => e.type === 'step.cancelled' && e.step === 'long')).toBe(true);
      expect(events(job).at(-1)).toMatchObject({ type: 'job.finished', status: 'cancelled' });
      await until('the grandchild to die', () => !isAlive(gc), 8000);
    });

    it('a second SIGINT kills steps that ignore SIGTERM at once, and still records every step and the job as cancelled', async () => {
      // Each step ignores SIGTERM (so the graceful cancel of the first SIGINT waits out its 5 s grace, the default),
      // records its shell's pid and its child's, and waits.
      graceMs = undefined;
      const step = (id: string) => `  ${id}:\n    run: |\n      trap "" TERM\n      sleep 30 &\n      echo "$$ $!" > ${dir}/${id}.pids\n      wait\n`;
      spec(`concurrency: 2\nsteps:\n${step('a')}${step('b')}  c:\n    needs: [a, b]\n    run: echo never\n`);
      const p = start('run', 'spec.yaml');
      let stderr = '';
      p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = exited(p);
      const pidsOf = (id: string) => fs.readFileSync(path.join(dir, `${id}.pids`), 'utf8').trim().split(' ').map(Number);
      await until('both steps to start', () => ['a', 'b'].every((id) => fs.existsSync(path.join(dir, `${id}.pids`)) && pidsOf(id).length === 2));
      const pids = [...pidsOf('a'), ...pidsOf('b')];
      p.kill('SIGINT');
      await until('the graceful cancel to begin', () => stderr.includes('cancelling running steps'));
      const second = Date.now();
      p.kill('SIGINT');
      expect(await code).toBe(130);
      // Well before the 5 s grace that would have SIGKILLed them anyway.
      expect(Date.now() - second).toBeLessThan(4000);
      expect(stderr).toContain('again: killing every step now');
      const job = jobs()[0]!;
      const all = events(job);
      expect(all.at(-1)).toMatchObject({ type: 'job.finished', status: 'cancelled' });
      expect(all.filter((e) => e.type === 'step.cancelled').map((e) => e.step).sort()).toEqual(['a', 'b', 'c']);
      const m = manifest(job);
      expect(m.status).toBe('cancelled');
      expect(m.finished_at).not.toBeNull();
      expect(Object.values(m.steps).map((s: any) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
      expect(cli('show', job, '--json').stdout).toContain('"status": "cancelled"');
      await until('every step process to be gone', () => pids.every((pid) => !isAlive(pid)), 5000);
    });

    it('--fail-fast cancels running steps when one fails', () => {
      spec(`
  steps:
    slow:
      run: sleep 30
    bad:
      run: sleep 0.2; exit 1
  `);
      const r = cli('run', 'spec.yaml', '--fail-fast', '--concurrency', '2');
      expect(r.code).toBe(1);
      const m = manifest(jobs()[0]!);
      expect(m.steps.bad.status).toBe('failed');
      expect(m.steps.slow.status).toBe('cancelled');
    });
  });

  describe('bounded waits, whatever a step leaves behind (issue 14)', () => {
    /** Processes a step leaves outside the job's reach: killed by the test, whatever happens. */
    const daemons: string[] = [];
    const daemonPid = (name: string) => {
      daemons.push(name);
      return Number(fs.readFileSync(path.join(dir, name), 'utf8'));
    };
    afterEach(() => {
      for (const name of daemons.splice(0)) {
        try {
          process.kill(Number(fs.readFileSync(path.join(dir, name), 'utf8')), 'SIGKILL');
        } catch {
          // already gone, or never started
        }
      }
    });

    it('a daemon in a session of its own holding stdout does not hold the step: the issue reproduction ends at once, and the log says why', () => {
      spec(`
timeout: 3s
steps:
  a:
    timeout: 2s
    run: |
      setsid bash -c 'trap "" TERM; echo $$ > ${dir}/d.pid; exec sleep 300' &
      sleep 0.5; echo started
`);
      const t0 = Date.now();
      const r = cli('run', 'spec.yaml');
      daemonPid('d.pid');
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(r.code, r.stderr).toBe(0);
      const job = jobs()[0]!;
      const m = manifest(job);
      expect(m).toMatchObject({ status: 'succeeded', steps: { a: { status: 'succeeded' } } });
      expect(m.finished_at).not.toBeNull();
      expect(events(job).at(-1)).toMatchObject({ type: 'job.finished' });
      const log = fs.readFileSync(path.join(runsDir, job, 'logs/a.log'), 'utf8');
      expect(log).toContain('started');
      expect(log).toContain('still held open by a process outside its process group');
    }, 30_000);

    it('a step still running at its timeout, its pipes held outside its group, fails with timeout within the kill grace', () => {
      spec(`
steps:
  a:
    timeout: 1s
    run: |
      setsid bash -c 'trap "" TERM; echo $$ > ${dir}/d.pid; exec sleep 300' &
      trap "" TERM
      echo started; sleep 30
  b:
    needs: [a]
    run: echo never
`);
      const t0 = Date.now();
      const r = cli('run', 'spec.yaml');
      daemonPid('d.pid');
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(r.code).toBe(1);
      const m = manifest(jobs()[0]!);
      expect(m.status).toBe('failed');
      expect(m.steps.a).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
      expect(m.steps.b.status).toBe('skipped');
    }, 30_000);

    it('a leftover in the step group that ignores SIGTERM and SIGHUP gets its SIGKILL before the orchestrator exits', async () => {
      spec(`
steps:
  a:
    run: |
      nohup bash -c 'trap "" TERM HUP; echo $$ > ${dir}/d.pid; exec sleep 300' > /dev/null 2>&1 &
      until [ -s ${dir}/d.pid ]; do sleep 0.05; done
      echo started
`);
      const r = cli('run', 'spec.yaml');
      expect(r.code, r.stderr).toBe(0);
      const pid = daemonPid('d.pid');
      // Dead when the command returns; a moment allowed only for the kernel to tear it down.
      await until('the leftover to be gone', () => !isAlive(pid), 2000);
    }, 30_000);

    it('a log masked for secrets keeps characters split between two reads whole', () => {
      // 600 kB of a 3-byte character: pipe reads of 64 KiB cut through one again and again.
      spec(`secrets: [MYTOK]\nsteps:\n  a:\n    run: node -e 'process.stdout.write("\\u20ac".repeat(200000) + process.env.MYTOK)'\n`);
      const r = spawnSync(process.execPath, [BIN, 'run', 'spec.yaml'], { cwd: dir, env: { ...env(), MYTOK: 'sk-live-0123456789' }, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const log = fs.readFileSync(path.join(runsDir, jobs()[0]!, 'logs/a.log'), 'utf8');
      expect(log).not.toContain('\ufffd');
      expect(log).toBe('€'.repeat(200000) + '***');
    });

    it('out of file descriptors (ulimit -n 64, 200 steps at once): steps wait for descriptors instead of failing', () => {
      const steps = Array.from({ length: 200 }, (_, i) => `  s${i}:\n    run: echo step ${i}; sleep 0.1\n`).join('');
      spec(`concurrency: 200\nsteps:\n${steps}`);
      const r = spawnSync('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" "${BIN}" run spec.yaml --quiet`], { cwd: dir, env: env(), encoding: 'utf8', timeout: 90_000 });
      expect(r.stderr).not.toMatch(/EMFILE|internal error/);
      expect(r.status, r.stdout).toBe(0);
      const m = manifest(jobs()[0]!);
      expect(Object.values(m.steps).filter((s: any) => s.status === 'succeeded')).toHaveLength(200);
      expect(fs.readFileSync(path.join(runsDir, jobs()[0]!, 'logs/s199.log'), 'utf8')).toBe('step 199\n');
    }, 100_000);
  });

  describe('crash safety and resume', () => {
    const dag = (log: string) => `
concurrency: 3
steps:
${['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
  .map((id, i) => {
    const needs = i < 2 ? [] : i < 5 ? ['a', 'b'].slice(0, 1 + (i % 2)) : ['c', 'd', 'e'].slice(i - 5, i - 3);
    return `  ${id}:\n${needs.length ? `    needs: [${needs.join(', ')}]\n` : ''}    run: sleep 0.0$((RANDOM % 9 + 1)); echo "$ORCH_JOB_ID $ORCH_STEP" >> ${log}; echo "v=${id}" >> "$ORCH_OUTPUT"`;
  })
  .join('\n')}
`;

    it('after kill -9 at random moments the folder reads, shows interrupted, and resume reruns no finished step', async () => {
      const log = path.join(dir, 'executions.log');
      spec(dag(log));
      let interrupted = 0;
      for (let trial = 0; trial < 10; trial++) {
        fs.rmSync(runsDir, { recursive: true, force: true });
        const p = start('run', 'spec.yaml');
        const code = exited(p);
        // The moment is drawn from the job's start (its first event written), not the process's: on a loaded machine
        // the process alone can take longer to start than any fixed delay, and every kill would land before the job.
        let ended = false;
        void code.then(() => (ended = true));
        await until('the job to start (or end)', () => ended || (fs.existsSync(runsDir) && fs.readdirSync(runsDir).some((id) => fs.existsSync(path.join(runsDir, id, 'events.jsonl')))), 60_000);
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 250)));
        p.kill('SIGKILL');
        await code;
        const ids = jobs();
        if (ids.length === 0) continue; // killed before the run folder existed: nothing to check
        const job = ids[0]!;
        if (!fs.existsSync(path.join(runsDir, job, 'events.jsonl'))) continue; // killed before its first event: never started
        // Every file reads: the manifest is whole JSON, every complete journal line is JSON.
        if (fs.existsSync(path.join(runsDir, job, 'manifest.json'))) manifest(job);
        const finished = new Set(events(job).filter((e) => e.type === 'step.succeeded').map((e) => e.step));
        const show = cli('show', 'latest', '--json');
        expect(show.code, show.stderr).toBe(0);
        const status = JSON.parse(show.stdout).status;
        expect(['interrupted', 'succeeded']).toContain(status);
        if (status !== 'interrupted') continue;
        interrupted++;
        expect(cli('list-runs').stdout).toContain('interrupted');
        const r = cli('resume', 'latest');
        expect(r.code, r.stderr + r.stdout).toBe(0);
        const resumed = jobs()[1]!;
        const m = manifest(resumed);
        expect(m.resumed_from).toBe(job);
        expect(Object.values(m.steps).every((s: any) => s.status === 'succeeded')).toBe(true);
        const ranAgain = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith(resumed)).map((l) => l.split(' ')[1]);
        for (const s of finished) {
          expect(ranAgain, `step ${s} had finished in ${job} but ran again`).not.toContain(s);
          expect(m.steps[s!].reused).toBe(true);
        }
      }
      expect(interrupted).toBeGreaterThan(0);
    }, 120_000);

    it('resume refuses a reused step whose recorded output was tampered with', () => {
      spec(`steps:\n  a:\n    run: echo "x=1" >> "$ORCH_OUTPUT"\n  b:\n    needs: [a]\n    run: exit 1\n`);
      expect(cli('run', 'spec.yaml').code).toBe(1);
      const job = jobs()[0]!;
      fs.writeFileSync(path.join(runsDir, job, 'outputs/a.json'), '{"status":"succeeded","outputs":{"x":"2"}}');
      const r = cli('resume', 'latest');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot reuse step "a": .*changed since the run/);
      expect(jobs()).toHaveLength(1);
    });

    it('rerun --step re-runs the step and what depends on it; --no-cascade only the step', () => {
      const log = path.join(dir, 'runs.log');
      spec(`steps:\n  a:\n    run: echo a >> ${log}\n  b:\n    needs: [a]\n    run: echo b >> ${log}\n  c:\n    needs: [b]\n    run: echo c >> ${log}\n`);
      expect(cli('run', 'spec.yaml').code).toBe(0);
      expect(cli('rerun', 'latest', '--step', 'b').code).toBe(0);
      expect(cli('rerun', 'latest', '--step', 'b', '--no-cascade').code).toBe(0);
      expect(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['a', 'b', 'c', 'b', 'c', 'b']);
      const [, second, third] = jobs();
      expect(manifest(second!).rerun_of).toBe(jobs()[0]);
      expect(manifest(third!).steps).toMatchObject({ a: { reused: true }, b: { reused: false }, c: { reused: true } });
    });
  });
});

// Large jobs' launcher process stops their steps when the orchestrator dies; small jobs' watchdog (process/watchdog.ts) does.
describe.each(spawnersBuilt())(`when the orchestrator is killed outright, the ${launcherKind} launcher's steps (%s spawner)`, (how) => {
  beforeEach(() => {
    spawner = how;
    launcher = launcherKind;
  });
  afterEach(() => {
    spawner = spawnersBuilt()[0]!;
    launcher = 'local';
  });
  it('stop: every running step and its group, and on Linux what it started with setsid; no raw $ORCH_OUTPUT (a secret) is left', async () => {
    spec(`
concurrency: 3
secrets: [FAULT_TOKEN]
steps:
  long:
    run: ${hangWithGrandchild()}
  unread:
    run: |
      echo "token=$FAULT_TOKEN" >> "$ORCH_OUTPUT"
      touch ${dir}/wrote
      sleep 300
  escapee:
    run: |
      setsid bash -c 'echo $$ > ${dir}/escapee.pid; exec sleep 300' &
      sleep 300
`);
    const p = start('run', 'spec.yaml');
    const code = exited(p);
    const gc = await grandchildPid();
    const escapee = path.join(dir, 'escapee.pid');
    await until('the escapee to start', () => fs.existsSync(escapee) && fs.readFileSync(escapee, 'utf8').trim() !== '');
    const escaped = Number(fs.readFileSync(escapee, 'utf8'));
    await until('the unread output to be written', () => fs.existsSync(path.join(dir, 'wrote')));
    p.kill('SIGKILL');
    await code;
    await until('the orphaned step to be stopped', () => !isAlive(gc), 10_000);
    const holdsSecret = () => filesUnder(runsDir)?.some((f) => fs.existsSync(f) && fs.readFileSync(f, 'latin1').includes('sk-fault-0123456789')) ?? true;
    await until('the raw output file to be removed', () => !holdsSecret(), 10_000);
    if (process.platform === 'linux') await until('the setsid escapee to be stopped', () => !isAlive(escaped), 15_000);
    else process.kill(escaped, 'SIGKILL');
  }, 40_000);
});
if (launcherKind === 'process') return;

describe('the kill grace', () => {
  it('is 5 s by default: a step that ignores SIGTERM at its timeout gets its SIGKILL 5 s later', () => {
    graceMs = undefined;
    spec(`steps:\n  stubborn:\n    timeout: 300ms\n    run: trap '' TERM; sleep 30; sleep 30\n`);
    const t0 = Date.now();
    const r = cli('run', 'spec.yaml');
    const took = Date.now() - t0;
    expect(r.code).toBe(1);
    expect(took).toBeGreaterThan(5300);
    expect(took).toBeLessThan(12_000);
    expect(manifest(jobs()[0]!).steps.stubborn.error.code).toBe('timeout');
  }, 20_000);

  it('a bad $ORCH_KILL_GRACE_MS is a usage error before any run folder', () => {
    spec(`steps:\n  a:\n    run: echo hi\n`);
    for (const bad of [50, 1e9]) {
      graceMs = bad;
      const r = cli('run', 'spec.yaml');
      expect([r.code, r.stderr]).toEqual([2, `ORCH_KILL_GRACE_MS must be a whole number of milliseconds from 100 to 600000, not "${bad}"\n`]);
    }
    expect(jobs()).toEqual([]);
  });
});

describe('a run folder from a process killed before its first manifest', () => {
  it('reads as interrupted from its journal, or as never started without one, and resumes', () => {
    spec(`steps:\n  a:\n    run: echo "x=1" >> "$ORCH_OUTPUT"\n  b:\n    needs: [a]\n    run: "true"\n`);
    expect(cli('run', 'spec.yaml').code).toBe(0);
    const job = jobs()[0]!;
    // As if killed right after job.started: no manifest, a journal of one line.
    fs.rmSync(path.join(runsDir, job, 'manifest.json'));
    const first = fs.readFileSync(path.join(runsDir, job, 'events.jsonl'), 'utf8').split('\n')[0]!;
    fs.writeFileSync(path.join(runsDir, job, 'events.jsonl'), `${first}\n`);
    const show = cli('show', job, '--json');
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ status: 'interrupted', steps: { a: { status: 'pending' }, b: { status: 'pending' } } });
    const r = cli('resume', job);
    expect(r.code, r.stderr).toBe(0);
    expect(manifest(jobs()[1]!).steps).toMatchObject({ a: { status: 'succeeded', reused: false }, b: { status: 'succeeded' } });
    // Killed before even that: no journal either.
    fs.rmSync(path.join(runsDir, job, 'events.jsonl'));
    const bare = cli('show', job, '--json');
    expect(bare.code, bare.stderr).toBe(0);
    expect(JSON.parse(bare.stdout).status).toBe('interrupted');
    expect(cli('list-runs').stdout).toContain('never started');
  });
});

describe('concurrent runs', () => {
  it('8 runs at once into one runs folder keep distinct ids and intact records', async () => {
    spec(`steps:\n  a:\n    run: echo one\n  b:\n    needs: [a]\n    run: echo two > "$ORCH_ARTIFACTS/two.txt"\n`);
    const procs = Array.from({ length: 8 }, () => start('run', 'spec.yaml'));
    const codes = await Promise.all(procs.map(exited));
    expect(codes).toEqual(Array(8).fill(0));
    const ids = jobs();
    expect(new Set(ids).size).toBe(8);
    for (const id of ids) {
      const m = manifest(id);
      expect(m.status).toBe('succeeded');
      expect(m.job_id).toBe(id);
      expect(m.files.map((f: { path: string }) => f.path)).toContain('artifacts/b/two.txt');
    }
    const listed = JSON.parse(cli('list-runs', '--json').stdout) as { job_id: string }[];
    expect(listed.map((j) => j.job_id).sort()).toEqual(ids);
  });
});

describe('cancelling a long chain (issue 14)', () => {
  it('--quiet summarises the cancelled steps past the first ten instead of listing thousands', async () => {
    const chain = Array.from({ length: 3000 }, (_, i) => `  s${i + 1}:\n    needs: [s${i}]\n    run: "true"\n`).join('');
    spec(`steps:\n  s0:\n    run: touch ${dir}/started; sleep 30\n${chain}`);
    const p = start('run', 'spec.yaml', '--quiet');
    let stdout = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const code = exited(p);
    await until('the first step to start', () => fs.existsSync(path.join(dir, 'started')));
    p.kill('SIGINT');
    expect(await code).toBe(130);
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeLessThan(20);
    expect(stdout).toContain('3001 cancelled');
    expect(lines.filter((l) => l.startsWith('■'))).toHaveLength(10);
    expect(stdout).toContain('… and 2991 more cancelled (not started: cancelled by signal)');
    expect(Object.keys(manifest(jobs()[0]!).steps)).toHaveLength(3001); // the record keeps every one
  }, 60_000);
});

describe.skipIf(process.platform !== 'linux')('Ctrl-C while resume checks the old job (issue 14)', () => {
  it("stops the check at once, says so, exits 130 and leaves no new run folder", async () => {
    // A sparse 1 GiB artifact: no disk used, seconds to hash (the Ctrl-C comes as soon as resume opens it).
    spec(`steps:\n  a:\n    run: truncate -s 1G "$ORCH_ARTIFACTS/disk.img"\n  b:\n    needs: [a]\n    run: exit 1\n`);
    expect(cli('run', 'spec.yaml').code).toBe(1);
    const p = start('resume', 'latest');
    let stderr = '';
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = exited(p);
    const hashing = () => {
      try {
        return fs.readdirSync(`/proc/${p.pid}/fd`).some((fd) => fs.readlinkSync(`/proc/${p.pid}/fd/${fd}`).endsWith('disk.img'));
      } catch {
        return false;
      }
    };
    await until('resume to be reading the old artifact', hashing);
    const sent = Date.now();
    p.kill('SIGINT');
    expect(await code).toBe(130);
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(stderr).toContain("cancelled while checking the old job's files: no new job was started");
    expect(jobs()).toHaveLength(1);
  }, 60_000);
});

}
