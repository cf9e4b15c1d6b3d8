// Workers on BullMQ/Redis (docs/spec.md, "Workers"), black-box: a real redis-server on 127.0.0.1, real
// `orchestrator worker` processes, the built CLI as coordinator. Order comes from marker files the steps write
// and wait for, never from sleeps; timings are the short ones of FAST_TIMINGS.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, sha256File, useCliRig } from '../helpers/cli.js';
import { startS3TestServer, type S3TestServer } from '../helpers/s3-test-server.js';
import { freePort, redisSkipReason, startRedisTestServer, type RedisTestServer } from '../helpers/redis-test-server.js';
import { FAST_TIMINGS, eventsOf, markers, startWorker, stopWorkers, waitFor, type WorkerProc } from '../helpers/worker-procs.js';
import { isAlive } from '../helpers/process-state.js';
import { startRogueWorker, type RogueAnswer } from '../helpers/rogue-worker.js';
import { Redis } from '../../src/workers/queue-lib.js';
import { workerKey, workersSetKey } from '../../src/workers/protocol.js';

const redisSkip = redisSkipReason();
const rig = useCliRig('orch-workers-');

describe('start-up of a local run', () => {
  it('loads none of BullMQ, ioredis or the S3 client; a run with --workers loads them', () => {
    rig().write('spec.yaml', 'name: local\nsteps:\n  a:\n    run: echo hi\n');
    const preload = path.join(REPO, 'test/fixtures/preload/record-remote-modules.cjs');
    const loaded = (args: string[]) => {
      const out = rig().path(`loaded-${args.length}`);
      rig().run(args, { env: { NODE_OPTIONS: `--require ${preload}`, ORCH_TEST_LOADED: out } });
      return fs.readFileSync(out, 'utf8');
    };
    expect(loaded(['run', 'spec.yaml'])).toBe('');
    // The same check sees them when they do load (a Redis nobody listens on: ioredis loads to try it).
    expect(loaded(['run', 'spec.yaml', '--workers', 'redis://127.0.0.1:1'])).toContain('ioredis');
  });
});

describe('a malformed Redis URL', () => {
  it('is a usage error (exit 2) naming the URL and its fault, in run, worker and workers; a ✗ in doctor; a validate error at workers.redis', () => {
    rig().write('spec.yaml', 'name: x\nsteps:\n  a:\n    run: echo never\n');
    const faults: [string, string][] = [
      ['redis://127.0.0.1:notaport', 'its port "notaport" is not a number'],
      ['redis://127.0.0.1:99999', 'its port 99999 is out of range (1 to 65535)'],
      ['redis://[::1', 'its IPv6 address opens a [ that no ] closes (redis://[::1]:6379)'],
    ];
    for (const [url, fault] of faults) {
      // Before: `internal error, please report: Invalid URL`, exit 70.
      for (const args of [['run', 'spec.yaml', '--workers', url], ['worker', '--redis', url], ['workers', '--redis', url]]) {
        const r = rig().run(args);
        expect([r.code, r.stderr], args.join(' ')).toEqual([2, `"${url}" is not a valid Redis URL: ${fault}\n`]);
      }
    }
    expect(fs.existsSync(rig().runsDir)).toBe(false);
    const doctor = rig().run(['doctor', '--workers', 'redis://127.0.0.1:notaport']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/✗ workers redis +"redis:\/\/127\.0\.0\.1:notaport" is not a valid Redis URL: its port "notaport" is not a number\n/);
    rig().write('bad.yaml', 'workers:\n  redis: redis://127.0.0.1:notaport\nsteps:\n  x:\n    run: echo x\n');
    const validate = rig().run(['validate', 'bad.yaml']);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain('bad.yaml:2:10: workers.redis: is not a valid Redis URL: its port "notaport" is not a number\n');
  });
});

describe.skipIf(redisSkip !== undefined)(`workers on Redis${redisSkip ? ` (skipped: ${redisSkip})` : ''}`, () => {
  let redis: RedisTestServer;
  let workers: WorkerProc[] = [];
  beforeAll(async () => {
    redis = await startRedisTestServer();
  });
  afterAll(async () => {
    await redis?.close();
  });
  afterEach(async () => {
    fs.writeFileSync(rig().path('release'), ''); // steps orphaned by a killed worker end too
    await stopWorkers(workers);
    workers = [];
    await flush(redis);
  });
  const env = () => ({ ...FAST_TIMINGS, ORCH_NO_WORKER_MS: '20000' });
  const run = (args: string[], extra: Record<string, string> = {}) => rig().runAsync(['run', 'spec.yaml', '--workers', redis.url, ...args], { env: { ...env(), ...extra }, timeoutMs: 90_000 });

  it('a run with workers loads the queue library once, as require would (a second load cost ~45 ms of its start)', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1' }));
    rig().write('spec.yaml', 'name: once\nsteps:\n  a:\n    run: echo hi\n');
    const out = rig().path('loaded');
    const preload = path.join(REPO, 'test/fixtures/preload/record-remote-modules.cjs');
    const r = await run([], { NODE_OPTIONS: `--require ${preload}`, ORCH_TEST_LOADED: out });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('bullmq, ioredis (dist/workers/queue-lib.cjs)');
  });

  it('runs shell steps on a worker (with the spec\'s env:): logs, outputs and needs come back, and the run says which worker ran each attempt', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1' }));
    rig().write('spec.yaml', 'name: remote\nenv:\n  GREETING: hello\nsteps:\n  a:\n    run: |\n      echo "$GREETING from $ORCH_WORKER"\n      echo "x=41" >> "$ORCH_OUTPUT"\n  b:\n    needs: [a]\n    output: json\n    run: |\n      echo "{\\"y\\": ${{ steps.a.outputs.x }}}"\n');
    const r = await run(['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(rig().log('a')).toBe('hello from w1\n');
    expect(rig().output('a').outputs).toEqual({ x: '41' });
    expect(rig().output('b').outputs).toEqual({ y: 41 });
    const started = rig().events().filter((e) => e.type === 'step.worker');
    expect(started.map((e) => [e.step, e.attempt, e.worker])).toEqual([['a', 1, 'w1'], ['b', 1, 'w1']]);
    // Recorded by the coordinator like a local run's: the manifest's hashes hold for the log.
    const manifest = rig().manifest();
    expect(manifest.files.find((f) => f.path === 'logs/a.log')).toBeDefined();
    expect(workers[0]!.output()).toMatch(/running a \(attempt 1\)/);
  });

  it('a secret whose value only the worker has is masked in everything the run folder holds: log, outputs, text, report.html', async () => {
    const secret = 'workersecret123';
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', env: { MYSECRET: secret } }));
    rig().write('spec.yaml', 'name: masked\nsecrets: [MYSECRET]\nsteps:\n  o:\n    run: |\n      echo "secret is $MYSECRET"\n      echo "v=$MYSECRET" >> "$ORCH_OUTPUT"\n');
    const r = await run([]); // the coordinator has no MYSECRET
    expect(r.code, r.stderr).toBe(0);
    expect(rig().log('o')).toBe('secret is ***\n');
    // Before, only the log was masked: outputs/o.json and report.html held the value.
    expect(rig().output('o')).toMatchObject({ outputs: { v: '***' }, text: 'secret is ***' });
    expect(rig().run(['report', rig().latest()]).code).toBe(0);
    const holding = rig().allFiles(path.relative(rig().dir, rig().runPath())).filter((f) => fs.readFileSync(rig().path(f), 'utf8').includes(secret));
    expect(holding).toEqual([]);
  });

  it('a log that is not all UTF-8 arrives byte for byte: the same bytes as the step gives in a local run', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1' }));
    // 100,000 bytes of 0xE2 (a lead byte with nothing after it), then text whose characters straddle the 64 KiB pieces.
    rig().write('spec.yaml', `name: bytes\nsteps:\n  a:\n    run: |\n      head -c 100000 /dev/zero | tr '\\0' '\\342'\n      node -e 'process.stdout.write("é€🍰".repeat(20000))'\n`);
    const remote = await run([]);
    expect(remote.code, remote.stderr).toBe(0);
    const job = rig().latest();
    const local = rig().run(['run', 'spec.yaml', '--local']);
    expect(local.code, local.stderr).toBe(0);
    const bytes = (id: string) => fs.readFileSync(rig().runPath('logs/a.log', id));
    expect(bytes(rig().latest()).subarray(0, 100_000).every((b) => b === 0xe2)).toBe(true);
    // Before, each piece went as text: every 0xE2 became U+FFFD (three bytes), 400 KB more than the step wrote.
    expect(bytes(job).length).toBe(bytes(rig().latest()).length);
    expect(bytes(job).equals(bytes(rig().latest()))).toBe(true);
    expect(rig().manifest(job).files.find((f) => f.path === 'logs/a.log')!.sha256).toBe(sha256File(rig().runPath('logs/a.log', job)));
  });

  it('a worker killed with kill -9 mid-step: that attempt ends worker-lost (not counted as a retry), the step runs again on another worker, recorded once', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', concurrency: 1 }), await startWorker(rig(), { redisUrl: redis.url, name: 'w2', concurrency: 1 }));
    rig().write('spec.yaml', 'name: lost\nsteps:\n  a:\n    run: |\n      echo $$ > "pid.$ORCH_WORKER"\n      touch "taken.$ORCH_WORKER"\n      while [ ! -e release ]; do sleep 0.05; done\n      echo "done=$ORCH_WORKER" >> "$ORCH_OUTPUT"\n');
    const running = run([]);
    await waitFor(() => markers(rig().dir, 'taken').length > 0, 30_000, () => 'no worker took the step');
    const first = markers(rig().dir, 'taken')[0]!;
    const victim = workers.find((w) => w.name === first)!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await waitFor(() => markers(rig().dir, 'taken').length === 2, 30_000, () => 'the step did not run again');
    // The killed worker's step does not outlive it: its watchdog (process/watchdog.ts) stopped it.
    const orphan = Number(fs.readFileSync(rig().path(`pid.${first}`), 'utf8'));
    await waitFor(() => !isAlive(orphan), 15_000, () => `the killed worker's step (pid ${orphan}) is still running`);
    // Nor does its scratch folder ($TMPDIR/orch-worker-<name>-*, every slot of it): the watchdog removes it.
    await waitFor(() => fs.readdirSync(victim.tmp).length === 0, 15_000, () => `the killed worker left ${fs.readdirSync(victim.tmp).join(', ')} in its TMPDIR`);
    const lostEvent = eventsOf(rig()).find((e) => e.type === 'step.retrying');
    expect(lostEvent?.error?.code).toBe('worker-lost');
    // Noticed within lockDuration + the check interval (plus a generous margin for a loaded machine).
    expect(Date.parse(lostEvent!.ts) - killedAt).toBeLessThan(Number(FAST_TIMINGS.ORCH_WORKER_LOCK_MS) + Number(FAST_TIMINGS.ORCH_WORKER_CHECK_MS) + 5_000);
    fs.writeFileSync(rig().path('release'), '');
    const r = await running;
    expect(r.code).toBe(0);
    const other = workers.find((w) => w.name !== first)!.name;
    expect(rig().output('a').outputs).toEqual({ done: other });
    expect(rig().output('a').attempts).toBe(2);
    const events = rig().events();
    expect(events.filter((e) => e.type === 'step.worker').map((e) => [e.attempt, e.worker])).toEqual([[1, first], [2, other]]);
    expect(events.filter((e) => e.type === 'step.succeeded' || e.type === 'step.failed')).toHaveLength(1);
    expect(rig().manifest().status).toBe('succeeded');
  });

  it('a worker stopped normally (SIGTERM) mid-step hands its attempt back: it runs again on another worker (worker-lost, no retry used), and its dependents run', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', concurrency: 1 }), await startWorker(rig(), { redisUrl: redis.url, name: 'w2', concurrency: 1 }));
    rig().write('spec.yaml', 'name: stopped\nsteps:\n  t:\n    run: |\n      touch "taken.$ORCH_WORKER"\n      while [ ! -e release ]; do sleep 0.05; done\n      echo "by=$ORCH_WORKER" >> "$ORCH_OUTPUT"\n  deploy:\n    needs: [t]\n    run: echo deploying\n');
    const running = run([]);
    await waitFor(() => markers(rig().dir, 'taken').length > 0, 30_000, () => 'no worker took the step');
    const first = markers(rig().dir, 'taken')[0]!;
    const stopped = workers.find((w) => w.name === first)!;
    stopped.child.kill('SIGTERM');
    await stopped.exited;
    expect(stopped.child.exitCode, stopped.output()).toBe(0);
    await waitFor(() => markers(rig().dir, 'taken').length === 2, 30_000, () => 'the step did not run again');
    fs.writeFileSync(rig().path('release'), '');
    const r = await running;
    // Before, the step was recorded cancelled ("the worker was stopped"), deploy skipped, and the job succeeded (exit 0).
    expect(r.code, r.stderr).toBe(0);
    const other = workers.find((w) => w !== stopped)!.name;
    expect(rig().manifest().steps.t).toMatchObject({ status: 'succeeded', attempts: 2, workers: { '1': first, '2': other } });
    expect(rig().manifest().steps.deploy!.status).toBe('succeeded');
    expect(rig().events().filter((e) => e.type === 'step.retrying').map((e) => e.error)).toEqual([{ code: 'worker-lost', message: `worker ${first} was stopped while running it: the attempt is run again elsewhere` }]);
  });

  it('a worker given a --dir that is no folder, or an empty --name, refuses to start (exit 2), before it takes anything', async () => {
    // Before, it took its place, then failed every step it took with `checkout` (or was listed without a name).
    const start = (args: string[]) => rig().runAsync(['worker', '--redis', redis.url, ...args], { env: { ...FAST_TIMINGS, TMPDIR: rig().dir }, timeoutMs: 20_000 });
    const [missing, file, unnamed] = await Promise.all([start(['--dir', 'nowhere']), start(['--dir', rig().write('spec.yaml', 'steps: {}\n')]), start(['--name', ''])]);
    expect([missing.code, missing.stderr]).toEqual([2, `--dir nowhere: no such folder (${rig().path('nowhere')}); it is the root of this worker's checkout of the project\n`]);
    expect([file.code, file.stderr]).toEqual([2, `--dir spec.yaml: not a folder (${rig().path('spec.yaml')}); it is the root of this worker's checkout of the project\n`]);
    expect([unnamed.code, unnamed.stderr]).toEqual([2, '--name is empty: give the worker a name, or leave --name out for host-pid\n']);
  });

  it('a second worker started with the name of a connected one is refused (exit 2, naming it); one restarted after kill -9 gets its name back', async () => {
    const first = await startWorker(rig(), { redisUrl: redis.url, name: 'w1' });
    workers.push(first);
    const listed = () => (JSON.parse(rig().run(['workers', '--redis', redis.url, '--json']).stdout) as { name: string; pid: number }[]).map((w) => [w.name, w.pid]);
    // Before, it took its place too, and the two overwrote each other's entry: `workers` listed one of them.
    const second = await rig().runAsync(['worker', '--redis', redis.url, '--name', 'w1'], { env: FAST_TIMINGS, timeoutMs: 15_000 });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`^the worker name w1 is taken at redis://127\\.0\\.0\\.1:${redis.port}: worker w1 \\(host ${os.hostname()}, pid ${first.child.pid}, since \\d{4}-[\\d-]+T[\\d:.]+Z\\) is connected under it; give this one another --name, or stop that one first\\n$`));
    expect(listed()).toEqual([['w1', first.child.pid]]);
    // Killed, its entry stays until it expires: a worker restarted under its name waits for that, and takes it.
    // Its entry lapses ~3 s after its last beat (FAST_TIMINGS): sooner than a worker may start on a loaded machine.
    // So what it left is put back for a minute, and ended once the restarted worker has seen it (its first EVAL).
    const client = new Redis(redis.url);
    let restarted: WorkerProc;
    try {
      const left = await client.hgetall(workerKey('w1'));
      first.child.kill('SIGKILL');
      await first.exited;
      await client.multi().hset(workerKey('w1'), left).pexpire(workerKey('w1'), 60_000).sadd(workersSetKey(), 'w1').exec();
      const evals = async () => Number(/cmdstat_eval:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
      const before = await evals();
      const starting = startWorker(rig(), { redisUrl: redis.url, name: 'w1' });
      starting.catch(() => undefined); // awaited below
      for (const deadline = Date.now() + 30_000; (await evals()) === before; ) {
        if (Date.now() > deadline) throw new Error('the restarted worker sent nothing to Redis in 30 s');
        await new Promise((r) => setTimeout(r, 25));
      }
      await client.pexpire(workerKey('w1'), 1);
      restarted = await starting;
    } finally {
      client.disconnect();
    }
    workers.push(restarted);
    expect(restarted.output()).toContain(`the name w1 was held by worker w1 (host ${os.hostname()}, pid ${first.child.pid}, since `);
    expect(listed()).toEqual([['w1', restarted.child.pid]]);
    rig().write('spec.yaml', 'name: renamed\nsteps:\n  a:\n    run: echo "on $ORCH_WORKER"\n');
    const r = await run([]);
    expect(r.code, r.stderr).toBe(0);
    expect(rig().log('a')).toBe('on w1\n');
  });

  it('a worker that sends back files the step could not have made (the run\'s own records, an undeclared workspace file) is refused: nothing of it is written', async () => {
    const fake = { sha256: '0'.repeat(64), size_bytes: 1 };
    // Runs the spec against a worker that answers every attempt with `answer`; the step's recorded error.
    const refusal = async (spec: string, answer: RogueAnswer, step: string) => {
      rig().write('spec.yaml', spec);
      const rogue = await startRogueWorker(redis.url, answer);
      try {
        const r = await run([]);
        expect(r.code).toBe(1);
        return rig().manifest().steps[step]!.error;
      } finally {
        await rogue.close();
      }
    };
    expect(await refusal('name: rogue\nsteps:\n  a:\n    run: echo never\n', { files: [{ path: 'manifest.json', ...fake }] }, 'a')).toEqual({
      code: 'remote',
      message: "worker rogue sent manifest.json, outside the step's artifacts (artifacts/a/): refused, nothing received",
    });
    const cached = 'name: rogue\nsteps:\n  b:\n    cache: { inputs: [spec.yaml], outputs: [out/*.txt] }\n    run: echo never\n';
    expect(await refusal(cached, { files: [], workspace: [{ path: 'out/b.txt', ...fake }, { path: 'spec.yaml', ...fake }] }, 'b')).toEqual({
      code: 'remote',
      message: "worker rogue sent spec.yaml, which matches none of the step's cache.outputs: refused, nothing received",
    });
    expect(fs.readFileSync(rig().path('spec.yaml'), 'utf8')).toBe(cached); // not overwritten
    expect(fs.existsSync(rig().path('out'))).toBe(false);
  });

  it('no worker connected: the step fails with no-worker after the bounded wait, saying how to start one', async () => {
    rig().write('spec.yaml', 'name: alone\nsteps:\n  a:\n    run: echo never\n');
    const started = Date.now();
    const r = await run([], { ORCH_NO_WORKER_MS: '1500' });
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(rig().manifest().steps.a!.error).toEqual({ code: 'no-worker', message: expect.stringMatching(/^no worker took the step within 1\.5 s at redis:\/\/127\.0\.0\.1:\d+: start one with `orchestrator worker --redis …`$/) });
  });

  it('Redis unreachable at start: exit 2 with one clear line, and no run folder', async () => {
    const port = await freePort();
    rig().write('spec.yaml', 'name: x\nsteps:\n  a:\n    run: echo never\n');
    const r = rig().run(['run', 'spec.yaml', '--workers', `redis://127.0.0.1:${port}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    expect(fs.existsSync(rig().runsDir)).toBe(false);
  });

  it('a worker paused with SIGSTOP past its lock, then resumed: its late result is refused, and the attempt is recorded once, from the other worker', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', concurrency: 1 }), await startWorker(rig(), { redisUrl: redis.url, name: 'w2', concurrency: 1 }));
    rig().write('spec.yaml', 'name: paused\nsteps:\n  a:\n    run: |\n      touch "taken.$ORCH_WORKER"\n      while [ ! -e "release.$ORCH_WORKER" ]; do sleep 0.05; done\n      echo "from $ORCH_WORKER"\n      echo "by=$ORCH_WORKER" >> "$ORCH_OUTPUT"\n');
    const running = run([]);
    await waitFor(() => markers(rig().dir, 'taken').length > 0, 30_000, () => 'no worker took the step');
    const paused = workers.find((w) => w.name === markers(rig().dir, 'taken')[0])!;
    const other = workers.find((w) => w !== paused)!;
    paused.child.kill('SIGSTOP');
    await waitFor(() => markers(rig().dir, 'taken').length === 2, 30_000, () => 'the step did not run again');
    // The paused worker's step finishes while it sleeps; woken, it tries to hand its result in.
    fs.writeFileSync(rig().path(`release.${paused.name}`), '');
    paused.child.kill('SIGCONT');
    await waitFor(() => /was refused/.test(paused.output()), 30_000, () => `no refusal: ${paused.output()}`);
    fs.writeFileSync(rig().path(`release.${other.name}`), '');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(rig().output('a').outputs).toEqual({ by: other.name });
    expect(rig().log('a')).not.toContain(`from ${paused.name}`);
    expect(rig().log('a')).toContain(`from ${other.name}`);
    const events = rig().events();
    expect(events.filter((e) => e.type === 'step.retrying').map((e) => e.error?.code)).toEqual(['worker-lost']);
    expect(events.filter((e) => e.type === 'step.succeeded' || e.type === 'step.failed')).toHaveLength(1);
  });

  describe.skipIf(process.platform !== 'linux')('on one machine, each sweeps only what its own steps left (Linux: /proc)', () => {
    it("the coordinator's end-of-job sweep leaves alone a step a worker of this machine still runs for the job (its attempt given up), and warns of nothing", async () => {
      workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', concurrency: 1 }), await startWorker(rig(), { redisUrl: redis.url, name: 'w2', concurrency: 1 }));
      rig().write('spec.yaml', 'name: swept\nsteps:\n  a:\n    run: |\n      echo $$ > "pid.$ORCH_WORKER"\n      touch "taken.$ORCH_WORKER"\n      while [ ! -e "release.$ORCH_WORKER" ]; do sleep 0.05; done\n      echo "by=$ORCH_WORKER" >> "$ORCH_OUTPUT"\n');
      const running = run([]);
      await waitFor(() => markers(rig().dir, 'taken').length > 0, 30_000, () => 'no worker took the step');
      const paused = workers.find((w) => w.name === markers(rig().dir, 'taken')[0])!;
      const other = workers.find((w) => w !== paused)!;
      const step = Number(fs.readFileSync(rig().path(`pid.${paused.name}`), 'utf8'));
      paused.child.kill('SIGSTOP'); // its attempt is given up (worker-lost) and runs again on the other; its step runs on
      await waitFor(() => markers(rig().dir, 'taken').length === 2, 30_000, () => 'the step did not run again');
      fs.writeFileSync(rig().path(`release.${other.name}`), '');
      const r = await running;
      expect(r.code, r.stderr).toBe(0);
      expect(rig().output('a').outputs).toEqual({ by: other.name });
      // Before, the job's end found it by its ORCH_JOB_ID and SIGTERMed it: "stopped a process that steps left running outside their process groups".
      expect(r.stderr).not.toContain('stopped');
      expect(isAlive(step), `the paused worker's step ${step}`).toBe(true);
      // It is the worker's: woken, it finishes it and hands in a result, which is refused.
      fs.writeFileSync(rig().path(`release.${paused.name}`), '');
      paused.child.kill('SIGCONT');
      await waitFor(() => /was refused/.test(paused.output()), 30_000, () => `no refusal: ${paused.output()}`);
      await waitFor(() => !isAlive(step), 15_000, () => `the step ${step} still runs`);
    });

    it("a worker killed with kill -9 stops what its own steps left, of any job it ran, and nothing of another worker's steps of the same job", async () => {
      // The daemon writes its pid once it is in its own session, and the step waits for that: a step that ends at once
      // (the retry below, after release) would otherwise take its group with it while the daemon was still in it.
      const daemonStep = 'name: pair\nsteps:\n' + ['a', 'b'].map((id) => `  ${id}:\n    run: |\n      rm -f "d.$ORCH_WORKER"\n      setsid sh -c 'echo $$ > "$0"; exec sleep 300' "d.$ORCH_WORKER" >/dev/null 2>&1 < /dev/null &\n      while [ ! -s "d.$ORCH_WORKER" ]; do sleep 0.02; done\n      mv "d.$ORCH_WORKER" "daemon.$ORCH_WORKER"\n      echo $$ > "pid.$ORCH_WORKER"\n      touch "taken.$ORCH_WORKER"\n      while [ ! -e release ]; do sleep 0.05; done\n      echo "by=$ORCH_WORKER" >> "$ORCH_OUTPUT"\n`).join('');
      const pidOf = (file: string) => Number(fs.readFileSync(rig().path(file), 'utf8'));
      // w2 runs a job first: its main job below is not the first it ran.
      const w2 = await startWorker(rig(), { redisUrl: redis.url, name: 'w2', concurrency: 1 });
      workers.push(w2);
      rig().write('spec.yaml', 'name: first\nsteps:\n  a:\n    run: echo warm\n');
      expect((await run([])).code).toBe(0);
      const w1 = await startWorker(rig(), { redisUrl: redis.url, name: 'w1', concurrency: 1 });
      workers.push(w1);
      rig().write('spec.yaml', daemonStep);
      const running = run([]);
      await waitFor(() => markers(rig().dir, 'taken').length === 2, 30_000, () => 'the two workers did not take a step each');
      const [step1, daemon1, step2, daemon2] = [pidOf('pid.w1'), pidOf('daemon.w1'), pidOf('pid.w2'), pidOf('daemon.w2')];
      w1.child.kill('SIGKILL');
      // Its watchdog stops its step and what the step left outside its group (found in /proc)...
      await waitFor(() => !isAlive(step1) && !isAlive(daemon1), 15_000, () => `w1's step ${step1} or its daemon ${daemon1} still runs`);
      await new Promise((r) => setTimeout(r, 500)); // its second look, 0.2 s after the first
      // ...and nothing of w2's, though they carry the same ORCH_JOB_ID (before, it SIGTERMed them too).
      expect([isAlive(step2), isAlive(daemon2)], `w2's step ${step2} and its daemon ${daemon2}`).toEqual([true, true]);
      fs.writeFileSync(rig().path('release'), '');
      const r = await running;
      expect(r.code, r.stderr).toBe(0);
      // w2's step went on to succeed at its first attempt; w1's ran again on w2 (worker-lost is no retry).
      const steps = rig().manifest().steps;
      expect([steps.a!.status, steps.b!.status]).toEqual(['succeeded', 'succeeded']);
      expect([rig().output('a').outputs, rig().output('b').outputs]).toEqual([{ by: 'w2' }, { by: 'w2' }]);
      expect([steps.a, steps.b]).toContainEqual(expect.objectContaining({ attempts: 1, workers: { '1': 'w2' } }));
      expect([steps.a, steps.b]).toContainEqual(expect.objectContaining({ attempts: 2, workers: { '1': 'w1', '2': 'w2' } }));
      // The daemons w2's steps left are w2's: the coordinator did not stop them; w2's watchdog does when it is killed.
      const daemon2b = pidOf('daemon.w2'); // the retry of w1's step ran on w2 too
      expect([isAlive(daemon2), isAlive(daemon2b)]).toEqual([true, true]);
      w2.child.kill('SIGKILL');
      await waitFor(() => !isAlive(daemon2) && !isAlive(daemon2b), 15_000, () => `w2's daemons ${daemon2}, ${daemon2b} still run`);
    });
  });

  it('Redis lost mid-run: the step fails with a recorded, explained error, and the run ends (no hang)', async () => {
    const own = await startRedisTestServer();
    try {
      workers.push(await startWorker(rig(), { redisUrl: own.url, name: 'w1', env: { ORCH_REDIS_LOST_MS: '1500' } }));
      rig().write('spec.yaml', 'name: lost-redis\nsteps:\n  a:\n    run: |\n      touch taken.a\n      while [ ! -e release ]; do sleep 0.05; done\n');
      const running = rig().runAsync(['run', 'spec.yaml', '--workers', own.url], { env: { ...env(), ORCH_REDIS_LOST_MS: '1500' }, timeoutMs: 90_000 });
      await waitFor(() => rig().exists('taken.a'), 30_000, () => 'no worker took the step');
      own.process.kill('SIGKILL');
      const r = await running;
      expect(r.code, r.stdout + r.stderr).toBe(1);
      const a = rig().manifest().steps.a!;
      expect(a.status).toBe('failed');
      expect(a.error).toEqual({ code: 'remote', message: expect.stringMatching(/^lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*\) and could not reconnect for 2 s$/) });
      expect(rig().manifest().status).toBe('failed');
      // The worker leaves too, saying why, and kills the step it ran.
      await workers[0]!.exited;
      expect(workers[0]!.output()).toMatch(/lost the connection to Redis/);
    } finally {
      await own.close();
    }
  });

  it('a worker that loses Redis says so once, then leaves (exit 2): no ioredis stack, no line per failed reconnection', async () => {
    const own = await startRedisTestServer();
    try {
      const w = await startWorker(rig(), { redisUrl: own.url, name: 'w1', env: { ORCH_REDIS_LOST_MS: '1500' } });
      workers.push(w);
      own.process.kill('SIGKILL');
      await w.exited;
      // Its last line is read once its stderr closes, which may come after the exit.
      if (!w.child.stderr!.closed) await new Promise((resolve) => w.child.stderr!.once('close', resolve));
      expect(w.child.exitCode).toBe(2);
      // Before: `[ioredis] Unhandled error event: Error: connect ECONNREFUSED …` with its stack, and a `queue: connect
      // ECONNREFUSED …` line every 200 ms of each connection until it gave up.
      const said = w.output().split('\n').filter(Boolean).slice(1);
      expect(said).toEqual([
        expect.stringMatching(/^lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+( \(.*\))?: trying again for 2 s$/),
        expect.stringMatching(/^lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*\) and could not reconnect for 2 s$/),
      ]);
    } finally {
      await own.close();
    }
  });

  it('Ctrl-C on the coordinator cancels the remote step: the worker kills its process tree, the job is recorded cancelled (130)', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1' }));
    rig().write('spec.yaml', 'name: cancel\nsteps:\n  a:\n    run: |\n      sleep 300 &\n      echo $! > grandchild.pid\n      touch taken.a\n      wait\n');
    const coordinator = startCoordinator(['run', 'spec.yaml', '--workers', redis.url], env());
    await waitFor(() => rig().exists('taken.a'), 30_000, () => `no worker took the step: ${coordinator.stderr()}`);
    const grandchild = Number(fs.readFileSync(rig().path('grandchild.pid'), 'utf8'));
    process.kill(coordinator.pid, 'SIGINT');
    expect(await coordinator.exit).toBe(130);
    expect(rig().manifest().status).toBe('cancelled');
    expect(rig().manifest().steps.a!.status).toBe('cancelled');
    await waitFor(() => !isAlive(grandchild), 15_000, () => `the step's child ${grandchild} still runs`);
  });

  it('the coordinator killed mid-run: resume --workers reuses what succeeded and runs the rest on workers', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1' }));
    rig().write('spec.yaml', 'name: resumed\nsteps:\n  a:\n    run: echo "n=1" >> "$ORCH_OUTPUT"\n  b:\n    needs: [a]\n    run: |\n      touch "taken.b$ORCH_WORKER"\n      while [ ! -e release ]; do sleep 0.05; done\n      echo "b after ${{ steps.a.outputs.n }}"\n');
    const coordinator = startCoordinator(['run', 'spec.yaml', '--workers', redis.url], env());
    await waitFor(() => markers(rig().dir, 'taken').length > 0, 30_000, () => `b did not start: ${coordinator.stderr()}`);
    process.kill(coordinator.pid, 'SIGKILL');
    await coordinator.exit;
    fs.writeFileSync(rig().path('release'), '');
    const first = rig().latest();
    const r = await rig().runAsync(['resume', first, '--workers', redis.url], { env: env(), timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const m = rig().manifest();
    expect(m.resumed_from).toBe(first);
    expect(m.steps.a!.reused).toBe(true);
    expect(m.steps.b!.status).toBe('succeeded');
    expect(rig().log('b')).toBe('b after 1\n');
    expect(rig().events().filter((e) => e.type === 'step.worker').map((e) => e.step)).toEqual(['b']);
  });

  it("a worker whose checkout has another spec refuses the step with a clear error", async () => {
    rig().write('elsewhere/spec.yaml', 'name: other\nsteps:\n  a:\n    run: echo other\n');
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', dir: rig().path('elsewhere') }));
    rig().write('spec.yaml', 'name: mine\nsteps:\n  a:\n    run: echo mine\n');
    const r = await run([]);
    expect(r.code).toBe(1);
    expect(rig().manifest().steps.a!.error).toEqual({ code: 'checkout', message: expect.stringMatching(/^this worker's checkout \(.*elsewhere\) has a different spec\.yaml \(SHA-256 [0-9a-f]{12}…, the coordinator's is [0-9a-f]{12}…\): update the checkout$/) });
  });

  it('runs_on: a step goes only to a worker with all its tags; one no worker has fails no-worker, naming the workers', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'cpu', tags: ['linux'] }), await startWorker(rig(), { redisUrl: redis.url, name: 'gpu', tags: ['linux', 'gpu'] }));
    rig().write('spec.yaml', 'name: tags\nsteps:\n  g:\n    runs_on: [gpu]\n    run: echo "on $ORCH_WORKER"\n  c:\n    runs_on: [linux, gpu]\n    run: echo "on $ORCH_WORKER"\n  t:\n    runs_on: [tpu]\n    run: echo never\n');
    const r = await run([], { ORCH_NO_WORKER_MS: '2000' });
    expect(r.code).toBe(1);
    expect(rig().log('g')).toBe('on gpu\n');
    expect(rig().log('c')).toBe('on gpu\n');
    expect(rig().manifest().steps.t!.error).toEqual({ code: 'no-worker', message: expect.stringMatching(/^no worker with tags tpu took the step within 2 s at redis:\/\/127\.0\.0\.1:\d+ \(connected: cpu \[linux\], gpu \[linux,gpu\]\): start one/) });
  });

  it('artifacts come back through the bucket, checked by SHA-256; a needed step\'s artifacts are restored on the worker first', async () => {
    const s3 = await startS3TestServer('orch-workers', 'run');
    try {
      workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', env: s3.env }));
      rig().write('spec.yaml', 'name: files\nsteps:\n  a:\n    run: echo "made by $ORCH_WORKER" > "$ORCH_ARTIFACTS/report.txt"\n  b:\n    needs: [a]\n    run: |\n      cat "$ORCH_RUN_DIR/artifacts/a/report.txt"\n      tr a-z A-Z < "$ORCH_RUN_DIR/artifacts/a/report.txt" > "$ORCH_ARTIFACTS/loud.txt"\n');
      const r = await run(['--bucket', s3.url], s3.env);
      expect(r.code, r.stderr).toBe(0);
      expect(fs.readFileSync(rig().runPath('artifacts/a/report.txt'), 'utf8')).toBe('made by w1\n');
      expect(fs.readFileSync(rig().runPath('artifacts/b/loud.txt'), 'utf8')).toBe('MADE BY W1\n');
      expect(rig().log('b')).toBe('made by w1\n');
      const listed = rig().manifest().files.find((f) => f.path === 'artifacts/b/loud.txt');
      expect(listed?.sha256).toBe(sha256File(rig().runPath('artifacts/b/loud.txt')));
      // A fanned need's artifacts are its instances': each restored where it is in the coordinator's run folder.
      rig().write('spec.yaml', 'name: fan\nsteps:\n  m:\n    matrix: { n: [1, 2] }\n    run: echo "${{ matrix.n }}" > "$ORCH_ARTIFACTS/f.txt"\n  sum:\n    needs: [m]\n    run: cat "$ORCH_RUN_DIR/artifacts/m-1/f.txt" "$ORCH_RUN_DIR/artifacts/m-2/f.txt"\n');
      const fanned = await run(['--bucket', s3.url], s3.env);
      expect(fanned.code, fanned.stderr + fanned.stdout).toBe(0);
      expect(rig().log('sum')).toBe('1\n2\n');
      rig().write('spec.yaml', 'name: files\nsteps:\n  a:\n    run: echo "made by $ORCH_WORKER" > "$ORCH_ARTIFACTS/report.txt"\n  b:\n    needs: [a]\n    run: |\n      cat "$ORCH_RUN_DIR/artifacts/a/report.txt"\n      tr a-z A-Z < "$ORCH_RUN_DIR/artifacts/a/report.txt" > "$ORCH_ARTIFACTS/loud.txt"\n');
      // A bucket the coordinator cannot use is said before the run, not after a worker has run a step.
      const jobs = fs.readdirSync(rig().runsDir).length;
      const missing = await run(['--bucket', 's3://no-such-bucket/run'], s3.env);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^the run's bucket s3:\/\/no-such-bucket\/run cannot be used: .*bucket does not exist/m);
      expect(fs.readdirSync(rig().runsDir)).toHaveLength(jobs);
      // Without a bucket, a step that writes artifacts on a worker fails, saying why.
      const bare = await run([]);
      expect(bare.code).toBe(1);
      expect(rig().manifest().steps.a!.error).toEqual({ code: 'remote', message: 'the step wrote 1 artifact(s) on a worker, and the run has no --bucket to bring them back' });
    } finally {
      await s3.close();
    }
  });

  it("artifacts keep their permission bits and links both ways: a needed step's executable artifact runs on the worker (also through a link), and what a step made comes back with its mode, links as links", async () => {
    const s3 = await startS3TestServer('orch-modes', 'run');
    try {
      workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', env: s3.env }));
      rig().write('spec.yaml', 'name: modes\nsteps:\n  make:\n    run: |\n      printf \'#!/bin/sh\\necho tool ran\\n\' > "$ORCH_ARTIFACTS/tool.sh"\n      chmod 755 "$ORCH_ARTIFACTS/tool.sh"\n      ln -s tool.sh "$ORCH_ARTIFACTS/latest"\n  use:\n    needs: [make]\n    run: |\n      "$ORCH_RUN_DIR/artifacts/make/tool.sh"\n      "$ORCH_RUN_DIR/artifacts/make/latest"\n      echo private > "$ORCH_ARTIFACTS/key.txt"\n      chmod 600 "$ORCH_ARTIFACTS/key.txt"\n      ln -s key.txt "$ORCH_ARTIFACTS/key-link"\n');
      const r = await run(['--bucket', s3.url], s3.env);
      // Before, the restored tool.sh was 644 on the worker: `use` failed, exit 126 (Permission denied).
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(rig().log('use')).toBe('tool ran\ntool ran\n');
      const mode = (rel: string) => fs.statSync(rig().runPath(rel)).mode & 0o777;
      expect([mode('artifacts/make/tool.sh'), mode('artifacts/use/key.txt')]).toEqual([0o755, 0o600]);
      // Links travel as links, as a local run leaves them (before, a worker dropped them without a word).
      expect([fs.readlinkSync(rig().runPath('artifacts/make/latest')), fs.readlinkSync(rig().runPath('artifacts/use/key-link'))]).toEqual(['tool.sh', 'key.txt']);
    } finally {
      await s3.close();
    }
  });

  describe('cached run steps (SPEC §11) with workers: looked up and stored by the coordinator, a miss runs on a worker', () => {
    let s3: S3TestServer;
    beforeAll(async () => {
      s3 = await startS3TestServer('orch-cached', 'run');
    });
    afterAll(async () => {
      await s3?.close();
    });
    // Inputs under src/, declared workspace outputs under out/ (a small file and one big enough to be a blob); a
    // cache.env variable set by the spec's env:, which the step sees on a worker as locally.
    const SPEC = 'name: cached\nenv:\n  GREETING: made\nsteps:\n  build:\n    cache:\n      inputs: [src/*.txt]\n      outputs: [out/**]\n      env: [MODE, GREETING]\n    run: |\n      mkdir -p out\n      echo "$GREETING on ${ORCH_WORKER:-the coordinator} from $(cat src/in.txt)" > out/result.txt\n      head -c 40000 /dev/urandom > out/big.bin\n      echo "n=7" >> "$ORCH_OUTPUT"\n';
    /** The coordinator's checkout is the rig's folder; the worker's, a copy of it in worker/ with its own src/in.txt. */
    const checkouts = (input: string, workerInput = input) => {
      for (const dir of ['', 'worker/']) rig().write(`${dir}spec.yaml`, SPEC);
      rig().write('src/in.txt', input);
      rig().write('worker/src/in.txt', workerInput);
    };
    const startCheckoutWorker = async (env: Record<string, string> = {}) => workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', dir: rig().path('worker'), env: { ...s3.env, ...env } }));
    const runRemote = (args: string[] = [], env: Record<string, string> = {}) => run(['--bucket', s3.url, ...args], { ...s3.env, ...env });
    const ranOnWorker = () => (workers[0]!.output().match(/running build \(attempt 1\)/g) ?? []).length;

    it('a miss runs on a worker and brings its declared workspace outputs back byte for byte; the next run is a hit that queues nothing', async () => {
      checkouts('v1\n');
      await startCheckoutWorker();
      const first = await runRemote();
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).not.toContain('warning');
      expect(rig().manifest().steps.build).toMatchObject({ status: 'succeeded', cached: false, workers: { '1': 'w1' } });
      for (const f of ['out/result.txt', 'out/big.bin']) expect(sha256File(rig().path(f)), f).toBe(sha256File(rig().path('worker', f)));
      expect(fs.readFileSync(rig().path('out/result.txt'), 'utf8')).toBe('made on w1 from v1\n');
      expect(ranOnWorker()).toBe(1);
      // A hit: restored here (the workspace outputs too), no job queued, no worker named.
      const big = sha256File(rig().path('out/big.bin'));
      fs.rmSync(rig().path('out'), { recursive: true });
      const second = await runRemote();
      expect(second.code, second.stderr).toBe(0);
      expect(rig().manifest().steps.build).toMatchObject({ status: 'succeeded', cached: true });
      expect(rig().manifest().steps.build).not.toHaveProperty('workers');
      expect(rig().events().filter((e) => e.type === 'step.worker')).toEqual([]);
      expect(rig().output('build').outputs).toEqual({ n: '7' });
      expect(fs.readFileSync(rig().path('out/result.txt'), 'utf8')).toBe('made on w1 from v1\n');
      expect(sha256File(rig().path('out/big.bin'))).toBe(big);
      expect(rig().run(['show', rig().latest()]).stdout).toMatch(/build +succeeded \(cached\)/);
      expect(ranOnWorker()).toBe(1);
      // Forced onto a worker with no bucket to bring its workspace outputs back: the step fails, saying so.
      const bare = await run(['--force', 'build']);
      expect(bare.code).toBe(1);
      expect(rig().manifest().steps.build!.error).toEqual({ code: 'remote', message: 'the step wrote 2 declared workspace output(s) on a worker, and the run has no --bucket to bring them back' });
    });

    it("a fanned step's per-instance cache globs hold on a worker: each instance brings back its own outputs, and a changed input re-runs its instance alone", async () => {
      const spec = "name: per-instance\nsteps:\n  lint:\n    matrix: { pkg: [a, b] }\n    cache:\n      inputs: ['src/${{ matrix.pkg }}.txt']\n      outputs: ['out/${{ matrix.pkg }}.txt']\n    run: mkdir -p out && cat src/${{ matrix.pkg }}.txt > out/${{ matrix.pkg }}.txt\n";
      for (const dir of ['', 'worker/']) {
        rig().write(`${dir}spec.yaml`, spec);
        for (const pkg of ['a', 'b']) rig().write(`${dir}src/${pkg}.txt`, `${pkg} v1\n`);
      }
      await startCheckoutWorker();
      const ran = (id: string) => (workers[0]!.output().match(new RegExp(`running ${id} \\(attempt 1\\)`, 'g')) ?? []).length;
      const first = await runRemote();
      expect(first.code, first.stderr).toBe(0);
      expect([ran('lint-a'), ran('lint-b')]).toEqual([1, 1]);
      for (const pkg of ['a', 'b']) expect(fs.readFileSync(rig().path(`out/${pkg}.txt`), 'utf8')).toBe(`${pkg} v1\n`);
      for (const dir of ['', 'worker/']) rig().write(`${dir}src/b.txt`, 'b v2\n');
      fs.rmSync(rig().path('out'), { recursive: true });
      const second = await runRemote();
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).not.toContain('warning');
      expect([ran('lint-a'), ran('lint-b')]).toEqual([1, 2]);
      expect(rig().manifest().steps['lint-a']).toMatchObject({ cached: true });
      expect(rig().manifest().steps['lint-b']).toMatchObject({ cached: false, workers: { '1': 'w1' } });
      expect(fs.readFileSync(rig().path('out/a.txt'), 'utf8')).toBe('a v1\n'); // restored here from lint (a)'s entry
      expect(fs.readFileSync(rig().path('out/b.txt'), 'utf8')).toBe('b v2\n'); // brought back from the worker
    });

    it('a declared output that is a symbolic link comes back from the worker as that link, with no bucket needed for it, and is stored as a link', async () => {
      // The link leads to a file of the checkout (the globs find only links that lead somewhere).
      const spec = 'name: linked\nsteps:\n  build:\n    cache:\n      outputs: [out/**]\n    run: |\n      mkdir -p out/bin\n      ln -sfn ../../spec.yaml out/bin/tool\n';
      for (const dir of ['', 'worker/']) rig().write(`${dir}spec.yaml`, spec);
      await startCheckoutWorker();
      // Only a link: nothing for a bucket to carry.
      const first = await run([]);
      expect(first.code, first.stderr).toBe(0);
      expect(rig().manifest().steps.build).toMatchObject({ status: 'succeeded', cached: false, workers: { '1': 'w1' } });
      expect(fs.readlinkSync(rig().path('out/bin/tool'))).toBe('../../spec.yaml');
      // Stored as a link: a local hit puts the link back.
      fs.rmSync(rig().path('out'), { recursive: true });
      const local = rig().run(['run', 'spec.yaml', '--local']);
      expect(local.code, local.stderr).toBe(0);
      expect(rig().manifest().steps.build).toMatchObject({ cached: true });
      expect(fs.readlinkSync(rig().path('out/bin/tool'))).toBe('../../spec.yaml');
      expect(ranOnWorker()).toBe(1);
    });

    it('an entry stored from a worker run is a hit for a local run of the same spec (also through --remote-cache), and one stored locally is a hit with --workers', async () => {
      checkouts('v1\n');
      await startCheckoutWorker();
      const remoteCache = ['--remote-cache', 's3://orch-cached/shared'];
      const signed = { ORCH_REMOTE_CACHE_KEY: 'k'.repeat(40) };
      expect((await runRemote(remoteCache, signed)).code).toBe(0);
      const local = rig().run(['run', 'spec.yaml']);
      expect(local.code, local.stderr).toBe(0);
      expect(rig().manifest().steps.build).toMatchObject({ cached: true });
      expect(fs.readFileSync(rig().path('out/result.txt'), 'utf8')).toBe('made on w1 from v1\n');
      // Another machine (an empty cache folder) finds it in the remote cache.
      const elsewhere = await rig().runAsync(['run', 'spec.yaml', '--cache-dir', rig().path('other-cache'), ...remoteCache], { env: { ...s3.env, ...signed } });
      expect(elsewhere.code, elsewhere.stderr).toBe(0);
      expect(rig().manifest().steps.build).toMatchObject({ cached: true }); // its own cache folder was empty: from the bucket
      // The other way: a new input, stored by a local run, then a hit with --workers.
      for (const dir of ['', 'worker/']) rig().write(`${dir}src/in.txt`, 'v2\n');
      expect(rig().run(['run', 'spec.yaml']).code).toBe(0);
      expect(rig().manifest().steps.build).toMatchObject({ cached: false });
      const remote = await runRemote();
      expect(remote.code, remote.stderr).toBe(0);
      expect(rig().manifest().steps.build).toMatchObject({ cached: true });
      expect(fs.readFileSync(rig().path('out/result.txt'), 'utf8')).toBe('made on the coordinator from v2\n');
      expect(ranOnWorker()).toBe(1);
    });

    it('an input (or a cache.env value) that differs on the worker: the step succeeds, its result is not stored, and a warning names it', async () => {
      checkouts('coordinator\n', 'worker\n');
      await startCheckoutWorker({ MODE: 'there' });
      const r = await runRemote([], { MODE: 'there' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: step "build": input src\/in\.txt differs on worker w1 \([0-9a-f]{12}… → [0-9a-f]{12}…\): its result is not stored in the cache/);
      expect(rig().manifest().steps.build).toMatchObject({ status: 'succeeded', cached: false });
      // Nothing was stored: with the same files, but another value of MODE here, it runs again, and is not stored either.
      rig().write('worker/src/in.txt', 'coordinator\n');
      const again = await runRemote([], { MODE: 'here' });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain('warning: step "build": variable MODE (cache.env) differs on worker w1: its result is not stored in the cache');
      expect(rig().manifest().steps.build).toMatchObject({ cached: false });
      expect(ranOnWorker()).toBe(2);
      // All the same: stored, and the next run is a hit.
      expect((await runRemote([], { MODE: 'there' })).stderr).not.toContain('warning');
      expect((await runRemote([], { MODE: 'there' })).code).toBe(0);
      expect(rig().manifest().steps.build).toMatchObject({ cached: true });
      expect(ranOnWorker()).toBe(3);
    });

    it('a workspace output whose bytes in the bucket do not match the SHA-256 the worker sent is refused: the step fails remote, nothing is written or stored', async () => {
      const made = 'poisoned test\n';
      rig().write('spec.yaml', `name: poisoned\nsteps:\n  build:\n    cache: { outputs: [out/**] }\n    run: mkdir -p out && printf '${made.trim()}\\n' > out/result.txt\n`);
      rig().write('worker/spec.yaml', fs.readFileSync(rig().path('spec.yaml'), 'utf8'));
      // Other bytes already under the blob's name: the worker sees it there and does not upload its own.
      const sha = createHash('sha256').update(made).digest('hex');
      await putObject(s3, `run/blobs/${sha}`, 'something else\n');
      await startCheckoutWorker();
      const r = await runRemote();
      expect(r.code).toBe(1);
      expect(rig().manifest().steps.build!.error).toEqual({ code: 'remote', message: `out/result.txt from ${s3.url} has SHA-256 ${createHash('sha256').update('something else\n').digest('hex')}, not the ${sha} it was sent as: not taken` });
      expect(rig().allFiles('out')).toEqual([]);
      const stats = JSON.parse(rig().run(['cache', 'stats', '--json']).stdout) as { step_entries: number };
      expect(stats.step_entries).toBe(0);
    });
  });

  it('visible: the run\'s lines, show, report.html and `workers` name the worker of each attempt, its tags and load; doctor checks Redis and the bucket', async () => {
    const s3 = await startS3TestServer('orch-doctor', 'probe');
    try {
      workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', concurrency: 3, tags: ['linux', 'big'] }));
      rig().write('spec.yaml', 'name: seen\nsteps:\n  a:\n    run: |\n      touch taken.a\n      while [ ! -e release ]; do sleep 0.05; done\n');
      const running = run([]);
      await waitFor(() => rig().exists('taken.a'), 30_000, () => 'no worker took the step');
      // The heartbeat says what it runs within a second.
      let listed: { name: string; tags: string[]; concurrency: number; running: number }[] = [];
      await waitFor(() => (listed = JSON.parse(rig().run(['workers', '--redis', redis.url, '--json']).stdout) as typeof listed)[0]?.running === 1, 10_000, () => JSON.stringify(listed));
      expect(listed.map((w) => [w.name, w.tags, w.concurrency, w.running])).toEqual([['w1', ['linux', 'big'], 3, 1]]);
      const text = rig().run(['workers', '--redis', redis.url]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^worker +tags +running +host +pid +since\nw1 +linux,big +1\/3 /);
      fs.writeFileSync(rig().path('release'), '');
      const r = await running;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/worker +a +on w1\n/);
      expect(rig().manifest().steps.a).toMatchObject({ workers: { '1': 'w1' } });
      expect(rig().run(['show', rig().latest()]).stdout).toMatch(/a +succeeded +1 \(w1\)/);
      expect(rig().run(['report', rig().latest()]).code).toBe(0);
      expect(fs.readFileSync(rig().runPath('report.html'), 'utf8')).toContain('w1 (attempt 1)');
      // doctor: both reachable, and the worker is named; an unreachable Redis is a problem (exit 1).
      // (Not spawnSync: s3rver answers from this process's event loop.)
      const doctor = await rig().runAsync(['doctor', '--json', '--workers', redis.url, '--bucket', s3.url], { env: s3.env });
      const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; state: string; value: string }[] }).checks;
      expect(checks.filter((c) => c.name.startsWith('workers '))).toEqual([
        { name: 'workers redis', state: 'ok', value: expect.stringMatching(/^redis:\/\/127\.0\.0\.1:\d+ \(Redis [\d.]+\), 1 worker connected: w1$/) },
        { name: 'workers bucket', state: 'ok', value: `${s3.url} answers` },
      ]);
      const noBucket = await rig().runAsync(['doctor', '--json', '--workers', redis.url, '--bucket', 's3://no-such-bucket/run'], { env: s3.env });
      expect((JSON.parse(noBucket.stdout) as { checks: { name: string; state: string; value: string }[] }).checks.find((c) => c.name === 'workers bucket')).toEqual({
        name: 'workers bucket',
        state: 'problem',
        value: expect.stringMatching(/^s3:\/\/no-such-bucket\/run: .*bucket does not exist/),
      });
      const port = await freePort();
      const down = rig().run(['doctor', '--workers', `redis://127.0.0.1:${port}`]);
      expect(down.code).toBe(1);
      expect(down.stdout).toContain(`✗ workers redis`);
      expect(down.stdout).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    } finally {
      await s3.close();
    }
  });
});

/** A coordinator process the test can signal; resolves with its exit code. */
function startCoordinator(args: string[], env: Record<string, string>): { pid: number; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: rig().dir, env: rig().env(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { pid: child.pid!, exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))), stderr: () => err };
}


/** Empty the test Redis between tests (queues, streams, worker entries). */
async function flush(redis: RedisTestServer): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redis.url);
  await client.flushall();
  client.disconnect();
}

/** Put an object into the test bucket directly (bytes the orchestrator did not write). */
async function putObject(s3: S3TestServer, key: string, body: string): Promise<void> {
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // the SDK's Node 20 notice, kept out of the test log
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  await client.send(new PutObjectCommand({ Bucket: new URL(s3.url).host, Key: key, Body: body }));
  client.destroy();
}
