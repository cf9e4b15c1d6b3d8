// Where shell steps run (docs/spec.md, "Workers"): `--workers`, then $ORCH_WORKERS, then the spec's
// `workers:`; `--local` keeps a run on this machine. A Redis nobody listens on shows which one a run chose
// (it stops with exit 2 before any run folder, naming it); one test runs on a real worker through the spec alone.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';
import { freePort, redisSkipReason, startRedisTestServer, type RedisTestServer } from '../helpers/redis-test-server.js';
import { FAST_TIMINGS, startWorker, stopWorkers } from '../helpers/worker-procs.js';

const rig = useCliRig('orch-workers-setting-');
const spec = (redis: string, extra = '') => `name: team\nworkers:\n  redis: ${redis}\n${extra}steps:\n  a:\n    run: echo "on ${'$'}{ORCH_WORKER:-this machine}"\n`;

describe("the spec's workers: setting", () => {
  it('is where a run goes when no flag or variable says otherwise; $ORCH_WORKERS and --workers win, in that order', async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    rig().write('spec.yaml', spec(`redis://127.0.0.1:${p1}`));
    const cannotReach = (port: number) => `cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`;
    const fromSpec = rig().run(['run', 'spec.yaml']);
    expect([fromSpec.code, fromSpec.stderr]).toEqual([2, cannotReach(p1)]);
    const fromEnv = rig().run(['run', 'spec.yaml'], { env: { ORCH_WORKERS: `redis://127.0.0.1:${p2}` } });
    expect([fromEnv.code, fromEnv.stderr]).toEqual([2, cannotReach(p2)]);
    const fromFlag = rig().run(['run', 'spec.yaml', '--workers', `redis://127.0.0.1:${p3}`], { env: { ORCH_WORKERS: `redis://127.0.0.1:${p2}` } });
    expect([fromFlag.code, fromFlag.stderr]).toEqual([2, cannotReach(p3)]);
    expect(fs.existsSync(rig().runsDir)).toBe(false);
  });

  it('--local runs every step here, whatever the spec and $ORCH_WORKERS say; with --workers it is a usage error', () => {
    rig().write('spec.yaml', spec('redis://127.0.0.1:1'));
    const r = rig().run(['run', 'spec.yaml', '--local'], { env: { ORCH_WORKERS: 'redis://127.0.0.1:2' } });
    expect(r.code, r.stderr).toBe(0);
    expect(rig().log('a')).toBe('on this machine\n');
    const both = rig().run(['run', 'spec.yaml', '--local', '--workers', 'redis://127.0.0.1:1']);
    expect([both.code, both.stderr]).toEqual([2, '--local and --workers contradict each other: choose one\n']);
  });

  it('a password in the spec is refused where it is written (it belongs in $ORCH_WORKERS)', () => {
    rig().write('spec.yaml', spec('redis://ci:s3cret@queue.internal:6379'));
    const r = rig().run(['validate', 'spec.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/spec\.yaml:3:10: .*must be a Redis URL without a password/);
  });

  it('a bad timing variable is a usage error naming it, before Redis and any run folder (never a quiet default)', async () => {
    rig().write('spec.yaml', spec(`redis://127.0.0.1:${await freePort()}`));
    const r = rig().run(['run', 'spec.yaml'], { env: { ORCH_NO_WORKER_MS: '30s' } });
    expect([r.code, r.stderr]).toEqual([2, 'ORCH_NO_WORKER_MS must be a positive number of milliseconds, not "30s"\n']);
    const lost = rig().run(['run', 'spec.yaml'], { env: { ORCH_REDIS_LOST_MS: '-1' } });
    expect([lost.code, lost.stderr]).toEqual([2, 'ORCH_REDIS_LOST_MS must be a positive number of milliseconds, not "-1"\n']);
    const worker = rig().run(['worker', '--redis', 'redis://127.0.0.1:1'], { env: { ORCH_WORKER_LOCK_MS: 'soon' } });
    expect([worker.code, worker.stderr]).toEqual([2, 'ORCH_WORKER_LOCK_MS must be a positive number of milliseconds, not "soon"\n']);
    expect(fs.existsSync(rig().runsDir)).toBe(false);
  });

  it('a spec on stdin with workers (any of the three ways) is a usage error up front, saying why and what to do; --local runs it', async () => {
    // Before, each step went to a worker and failed there: "checkout: this worker's checkout (…) has no <stdin>".
    const url = `redis://127.0.0.1:${await freePort()}`; // never asked: the error comes before Redis
    const refused = (where: string) => `a spec read from stdin cannot run on workers (${where}): each worker runs the spec from its own checkout, so it must be a file of the project; save it there and run that file, or run here with --local\n`;
    const plain = 'name: piped\nsteps:\n  a:\n    run: echo "on ${ORCH_WORKER:-this machine}"\n';
    const byFlag = rig().run(['run', '-', '--workers', url], { input: plain });
    expect([byFlag.code, byFlag.stderr]).toEqual([2, refused('--workers')]);
    const byEnv = rig().run(['run', '/dev/stdin'], { input: plain, env: { ORCH_WORKERS: url } });
    expect([byEnv.code, byEnv.stderr]).toEqual([2, refused('$ORCH_WORKERS')]);
    const bySpec = rig().run(['run', '-'], { input: spec(url) });
    expect([bySpec.code, bySpec.stderr]).toEqual([2, refused("the spec's `workers:`")]);
    expect(fs.existsSync(rig().runsDir)).toBe(false);
    // Here, it runs; and resume of that job (from its copy of the spec) cannot go to workers either.
    const local = rig().run(['run', '-', '--local'], { input: spec(url) });
    expect(local.code, local.stderr).toBe(0);
    expect(rig().log('a')).toBe('on this machine\n');
    const resumed = rig().run(['resume', 'latest', '--workers', url], { input: '' });
    expect([resumed.code, resumed.stderr]).toEqual([2, refused('--workers')]);
    expect(rig().jobs()).toHaveLength(1);
  });

  it('resume or rerun with workers of a job whose spec file changed (or is gone) is a usage error up front, not a refusal per step', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`; // never asked: the error comes before Redis
    rig().write('spec.yaml', 'name: x\nsteps:\n  a:\n    run: echo a\n  b:\n    needs: [a]\n    run: exit 1\n');
    expect(rig().run(['run', 'spec.yaml', '--local']).code).toBe(1);
    rig().write('spec.yaml', 'name: x\nsteps:\n  a:\n    run: echo a\n  b:\n    needs: [a]\n    run: echo fixed\n');
    const changed = rig().run(['resume', 'latest', '--workers', url]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain(`the spec changed since this job (${rig().path('spec.yaml')}), and workers run that file from their own checkouts, not the job's copy: every step would be refused.`);
    fs.rmSync(rig().path('spec.yaml'));
    const gone = rig().run(['rerun', 'latest', '--step', 'b', '--workers', url]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`the spec file ${rig().path('spec.yaml')} is gone, and workers run that file`);
    expect(rig().jobs()).toHaveLength(1);
    // Here it resumes from the job's copy, as ever.
    expect(rig().run(['resume', 'latest', '--local']).code).toBe(1);
  });

  it('--bucket without any workers is a usage error naming the three ways to ask for them', () => {
    rig().write('spec.yaml', 'name: x\nsteps:\n  a:\n    run: echo\n');
    const r = rig().run(['run', 'spec.yaml', '--bucket', 's3://b/p']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--bucket is for runs with workers (--workers, $ORCH_WORKERS or the spec's `workers:`)");
  });
});

const redisSkip = redisSkipReason();
describe.skipIf(redisSkip !== undefined)(`the spec's workers: with a worker${redisSkip ? ` (skipped: ${redisSkip})` : ''}`, () => {
  let redis: RedisTestServer;
  beforeAll(async () => {
    redis = await startRedisTestServer();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('a plain `run spec.yaml` runs its shell steps on the workers the spec names', async () => {
    const worker = await startWorker(rig(), { redisUrl: redis.url, name: 'w1' });
    try {
      rig().write('spec.yaml', spec(redis.url));
      const r = await rig().runAsync(['run', 'spec.yaml'], { env: { ...FAST_TIMINGS, ORCH_NO_WORKER_MS: '20000' }, timeoutMs: 90_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(rig().log('a')).toBe('on w1\n');
      expect(rig().manifest().steps.a).toMatchObject({ status: 'succeeded', workers: { '1': 'w1' } });
    } finally {
      await stopWorkers([worker]);
    }
  });
});
