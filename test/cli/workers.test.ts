// Workers on BullMQ/Redis (docs/spec.md, "Workers"), black-box: a real redis-server on 127.0.0.1, real
// `orchestrator worker` processes, the built CLI as coordinator. Order comes from marker files the steps write
// and wait for, never from sleeps; timings are the short ones of FAST_TIMINGS.
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';
import { freePort, redisSkipReason, startRedisTestServer, type RedisTestServer } from '../helpers/redis-test-server.js';
import { FAST_TIMINGS, eventsOf, markers, startWorker, stopWorkers, waitFor, type WorkerProc } from '../helpers/worker-procs.js';

const redisSkip = redisSkipReason();
const rig = useCliRig('orch-workers-');

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

  it('runs shell steps on a worker: logs, outputs and needs come back, and the run says which worker ran each attempt', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1' }));
    rig().write('spec.yaml', 'name: remote\nsteps:\n  a:\n    run: |\n      echo "hello from $ORCH_WORKER"\n      echo "x=41" >> "$ORCH_OUTPUT"\n  b:\n    needs: [a]\n    output: json\n    run: |\n      echo "{\\"y\\": ${{ steps.a.outputs.x }}}"\n');
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

  it('a worker killed with kill -9 mid-step: that attempt ends worker-lost (not counted as a retry), the step runs again on another worker, recorded once', async () => {
    workers.push(await startWorker(rig(), { redisUrl: redis.url, name: 'w1', concurrency: 1 }), await startWorker(rig(), { redisUrl: redis.url, name: 'w2', concurrency: 1 }));
    rig().write('spec.yaml', 'name: lost\nsteps:\n  a:\n    run: |\n      touch "taken.$ORCH_WORKER"\n      while [ ! -e release ]; do sleep 0.05; done\n      echo "done=$ORCH_WORKER" >> "$ORCH_OUTPUT"\n');
    const running = run([]);
    await waitFor(() => markers(rig().dir, 'taken').length > 0, 30_000, () => 'no worker took the step');
    const first = markers(rig().dir, 'taken')[0]!;
    const victim = workers.find((w) => w.name === first)!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await waitFor(() => markers(rig().dir, 'taken').length === 2, 30_000, () => 'the step did not run again');
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
});

/** Empty the test Redis between tests (queues, streams, worker entries). */
async function flush(redis: RedisTestServer): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redis.url);
  await client.flushall();
  client.disconnect();
}
