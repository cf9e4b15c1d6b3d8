// The ready-queue scheduler driven by a fake executor: assertions on the event sequence, never on timings.
import { describe, expect, it } from 'vitest';
import { flush, jobSpecOf, startFakeScheduler } from '../../helpers/fake-executor.js';

const retry = (attempts: number) => ({ attempts, delayMs: 0, backoff: 'fixed' as const, maxDelayMs: Infinity });

describe('readiness', () => {
  it('starts a step only after all of its needs have settled', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: {}, b: {}, c: { needs: ['a', 'b'] } }));
    await flush();
    expect(run.fake.running).toEqual(['a', 'b']);
    await run.fake.succeed('a');
    expect(run.fake.running).toEqual(['b']);
    await run.fake.succeed('b');
    expect(run.fake.running).toEqual(['c']);
    await run.fake.succeed('c');
    expect((await run.outcome).status).toBe('succeeded');
    expect(run.log()).toEqual([
      'step.started a',
      'step.started b',
      'step.succeeded a',
      'step.succeeded b',
      'step.started c',
      'step.succeeded c',
    ]);
  });

  it('is a ready queue, not level by level: a step starts when its own needs are done', async () => {
    // a -> b, and a slow x: b must not wait for x.
    const run = startFakeScheduler(jobSpecOf({ a: {}, x: {}, b: { needs: ['a'] } }));
    await flush();
    await run.fake.succeed('a');
    expect(run.fake.running).toEqual(['x', 'b']);
    await run.fake.succeed('b');
    await run.fake.succeed('x');
    expect((await run.outcome).status).toBe('succeeded');
  });

  it('runs every step of a wide DAG exactly once and ends when the last settles', async () => {
    const steps: Record<string, { needs?: string[] }> = { root: {} };
    for (let i = 0; i < 20; i++) steps[`s${i}`] = { needs: ['root'] };
    steps.sink = { needs: Object.keys(steps).filter((k) => k !== 'root') };
    const run = startFakeScheduler(jobSpecOf(steps), { concurrency: 3 });
    await flush();
    while (run.fake.running.length > 0) await run.fake.succeed(run.fake.running[0]!);
    expect(run.isDone).toBe(true);
    expect(run.fake.startOrder).toHaveLength(22);
    expect(new Set(run.fake.startOrder).size).toBe(22);
    expect(run.fake.startOrder.at(-1)).toBe('sink');
  });
});

describe('concurrency limit', () => {
  it('never has more attempts in flight than the limit', async () => {
    const steps: Record<string, object> = {};
    for (let i = 0; i < 10; i++) steps[`s${i}`] = {};
    const run = startFakeScheduler(jobSpecOf(steps), { concurrency: 3 });
    await flush();
    expect(run.fake.running).toHaveLength(3);
    // Finish them in a scrambled order; the limit holds at every point of the event sequence.
    while (run.fake.running.length > 0) await run.fake.succeed(run.fake.running[run.fake.running.length - 1]!);
    expect(run.fake.maxInFlight).toBe(3);
    let inFlight = 0;
    let most = 0;
    for (const e of run.events) {
      if (e.type === 'step.started') most = Math.max(most, ++inFlight);
      if (e.type === 'step.succeeded') inFlight--;
    }
    expect(most).toBe(3);
    expect((await run.outcome).status).toBe('succeeded');
  });

  it('with concurrency 1 runs one step at a time', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: {}, b: {}, c: {} }), { concurrency: 1 });
    await flush();
    for (const id of ['a', 'b', 'c']) {
      expect(run.fake.running).toEqual([id]);
      await run.fake.succeed(id);
    }
    expect(run.isDone).toBe(true);
  });
});

describe('priority: longest remaining path first', () => {
  it('among ready steps, starts the one heading the longest chain', async () => {
    // Spec order lists the short steps first; the chain head must still go first.
    const run = startFakeScheduler(
      jobSpecOf({ lone1: {}, lone2: {}, head: {}, mid: { needs: ['head'] }, tail: { needs: ['mid'] }, short: {}, short2: { needs: ['short'] } }),
      { concurrency: 1 },
    );
    await flush();
    expect(run.fake.running).toEqual(['head']);
    await run.fake.succeed('head');
    // Ready now: lone1 (1), lone2 (1), mid (2), short (2): ties broken by spec order.
    expect(run.fake.running).toEqual(['mid']);
    await run.fake.succeed('mid');
    expect(run.fake.running).toEqual(['short']);
    while (run.fake.running.length > 0) await run.fake.succeed(run.fake.running[0]!);
    // The last four all have rank 1 and start in spec order.
    expect(run.fake.startOrder).toEqual(['head', 'mid', 'short', 'lone1', 'lone2', 'tail', 'short2']);
  });
});

describe('skip propagation', () => {
  it('skips dependents of a failed step transitively; independent branches keep running', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: {}, other: {}, b: { needs: ['a'] }, c: { needs: ['b'] }, after: { needs: ['other'] } }));
    await flush();
    await run.fake.fail('a', { retryable: false });
    const f = run.finals();
    expect(f.b).toMatchObject({ type: 'step.skipped', error: { code: 'skipped', message: 'need "a" failed' } });
    expect(f.c).toMatchObject({ type: 'step.skipped', error: { message: 'need "b" skipped' } });
    expect(run.fake.running).toEqual(['other']);
    await run.fake.succeed('other');
    await run.fake.succeed('after');
    const outcome = await run.outcome;
    expect(outcome.status).toBe('failed');
    expect(outcome.results.map((r) => r.status)).toEqual(['failed', 'succeeded', 'skipped', 'skipped', 'succeeded']);
    expect(run.fake.startOrder).not.toContain('b');
  });

  it('a step whose if: is false is skipped, and so are its dependents', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: { if: 'false' }, b: { needs: ['a'] } }));
    const outcome = await run.outcome;
    expect(outcome.status).toBe('succeeded');
    expect(run.log()).toEqual(['step.skipped a', 'step.skipped b']);
    expect(run.finals().a).toMatchObject({ error: { code: 'skipped', message: 'if: false was false' } });
  });
});

describe('if: status functions', () => {
  it('always() runs after a failed need; failure() only when something upstream failed; success() when all needs did', async () => {
    const run = startFakeScheduler(
      jobSpecOf({
        a: {},
        b: { needs: ['a'] },
        cleanup: { needs: ['b'], if: '${{ always() }}' },
        on_fail: { needs: ['b'], if: 'failure()' },
        on_ok: { needs: ['b'], if: 'success()' },
        not_cancelled: { needs: ['b'], if: 'cancelled()' },
      }),
    );
    await flush();
    await run.fake.fail('a', { retryable: false });
    // b is skipped because a failed; failure() sees the failure through the skipped b.
    expect(run.fake.running.sort()).toEqual(['cleanup', 'on_fail']);
    await run.fake.succeed('cleanup');
    await run.fake.succeed('on_fail');
    const f = run.finals();
    expect(f.b?.type).toBe('step.skipped');
    expect(f.on_ok).toMatchObject({ type: 'step.skipped', error: { message: 'if: success() was false' } });
    expect(f.not_cancelled?.type).toBe('step.skipped');
    expect((await run.outcome).status).toBe('failed');
  });

  it('failure() is false and success() true when everything succeeded', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: {}, on_fail: { needs: ['a'], if: 'failure()' }, on_ok: { needs: ['a'], if: 'success()' } }));
    await flush();
    await run.fake.succeed('a');
    expect(run.fake.running).toEqual(['on_ok']);
    await run.fake.succeed('on_ok');
    expect(run.finals().on_fail?.type).toBe('step.skipped');
    expect((await run.outcome).status).toBe('succeeded');
  });

  it('if: reads the outputs of needed steps', async () => {
    const run = startFakeScheduler(
      jobSpecOf({ probe: {}, deploy: { needs: ['probe'], if: "steps.probe.outputs.ready == 'yes'" }, wait: { needs: ['probe'], if: "steps.probe.outputs.ready != 'yes'" } }),
    );
    await flush();
    await run.fake.succeed('probe', { outputs: { ready: 'YES' } }); // comparisons ignore case, as in GitHub
    expect(run.fake.running).toEqual(['deploy']);
    await run.fake.succeed('deploy');
    expect(run.finals().wait?.type).toBe('step.skipped');
  });

  // Bug (scheduler.ts decide()): an `if:` without a status function replaces the default success() instead of adding
  // to it, so a step whose need failed still runs when its condition is true. SPEC §3 (and GitHub) only let
  // always() / failure() / cancelled() override the skip. Fix: when collectReferences(if).functions has no status
  // function, evaluate `success() && (<if>)`.
  it('an if: without a status function still skips a step whose need failed', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: {}, b: { needs: ['a'], if: "vars.deploy == 'yes'" } }), { vars: { deploy: 'yes' } });
    await flush();
    await run.fake.fail('a', { retryable: false });
    expect(run.fake.running).toEqual([]);
    expect(run.finals().b?.type).toBe('step.skipped');
    if (!run.isDone) await run.fake.succeed('b');
  });

  it('an if: that fails to evaluate fails the step with code expression', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: { if: "fromJSON('not json')" }, b: { needs: ['a'] } }));
    const outcome = await run.outcome;
    expect(outcome.status).toBe('failed');
    expect(run.finals().a).toMatchObject({ type: 'step.failed', error: { code: 'expression' } });
    expect(run.finals().b?.type).toBe('step.skipped');
  });
});

describe('continue_on_error', () => {
  it('a failure does not fail the job and does not skip dependents', async () => {
    const run = startFakeScheduler(jobSpecOf({ lint: { continueOnError: true }, build: { needs: ['lint'] }, on_ok: { needs: ['lint'], if: 'success()' } }));
    await flush();
    await run.fake.fail('lint', { retryable: false });
    expect(run.finals().lint).toMatchObject({ type: 'step.failed', continue_on_error: true });
    expect(run.fake.running).toEqual(['build', 'on_ok']);
    await run.fake.succeed('build');
    await run.fake.succeed('on_ok');
    expect((await run.outcome).status).toBe('succeeded');
  });

  it('does not trigger fail-fast', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: { continueOnError: true }, b: {} }), { failFast: true });
    await flush();
    await run.fake.fail('a', { retryable: false });
    expect(run.fake.running).toEqual(['b']);
    await run.fake.succeed('b');
    expect((await run.outcome).status).toBe('succeeded');
  });
});

describe('on_failure: stop / --fail-fast', () => {
  it('cancels running steps, cancels queued and pending ones, and fails the job', async () => {
    const run = startFakeScheduler(
      jobSpecOf({ bad: {}, slow: {}, queued: {}, later: { needs: ['slow'] } }, { onFailure: 'stop' }),
      { concurrency: 2 },
    );
    await flush();
    expect(run.fake.running).toEqual(['slow', 'bad']); // slow heads a longer chain
    await run.fake.fail('bad', { retryable: false });
    const outcome = await run.outcome;
    expect(outcome.status).toBe('failed');
    const f = run.finals();
    expect(f.bad?.type).toBe('step.failed');
    expect(f.slow).toMatchObject({ type: 'step.cancelled', attempt: 1, error: { code: 'cancelled' } });
    expect(f.queued).toMatchObject({ type: 'step.cancelled', error: { message: 'not started: job stopped after step "bad" failed' } });
    expect(f.later).toMatchObject({ type: 'step.cancelled' });
    expect(f.queued).not.toHaveProperty('attempt');
    expect(run.fake.startOrder).toEqual(['slow', 'bad']);
    expect(outcome.results.map((r) => r.status)).toEqual(['failed', 'cancelled', 'cancelled', 'cancelled']);
  });

  it('with on_failure: continue (default), other branches run to the end', async () => {
    const run = startFakeScheduler(jobSpecOf({ bad: {}, slow: {}, later: { needs: ['slow'] } }));
    await flush();
    await run.fake.fail('bad', { retryable: false });
    await run.fake.succeed('slow');
    await run.fake.succeed('later');
    expect((await run.outcome).status).toBe('failed');
    expect(run.finals().later?.type).toBe('step.succeeded');
  });
});

describe('retries', () => {
  it('retries a retryable failure, emitting step.retrying with the next attempt number', async () => {
    const run = startFakeScheduler(jobSpecOf({ flaky: { retry: retry(3) } }));
    await flush();
    await run.fake.fail('flaky');
    await run.fake.fail('flaky');
    await run.fake.succeed('flaky');
    const outcome = await run.outcome;
    expect(outcome.status).toBe('succeeded');
    expect(run.log()).toEqual(['step.started flaky', 'step.retrying flaky', 'step.retrying flaky', 'step.succeeded flaky']);
    const retrying = run.events.filter((e) => e.type === 'step.retrying');
    expect(retrying.map((e) => (e as { attempt: number }).attempt)).toEqual([2, 3]);
    expect(retrying[0]).toMatchObject({ error: { code: 'exit' }, delay_s: 0 });
    expect(run.finals().flaky).toMatchObject({ attempt: 3 });
    expect(outcome.results[0]!.attempts).toBe(3);
    expect(run.fake.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
  });

  it('gives up after the last attempt', async () => {
    const run = startFakeScheduler(jobSpecOf({ flaky: { retry: retry(2) } }));
    await flush();
    await run.fake.fail('flaky');
    await run.fake.fail('flaky', { message: 'exited with code 7', exitCode: 7 });
    const outcome = await run.outcome;
    expect(outcome.status).toBe('failed');
    expect(run.finals().flaky).toMatchObject({ type: 'step.failed', attempt: 2, exit_code: 7, error: { message: 'exited with code 7' } });
  });

  it('does not retry a failure marked not retryable', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: { retry: retry(5) } }));
    await flush();
    await run.fake.fail('a', { code: 'output', retryable: false });
    await run.outcome;
    expect(run.log()).toEqual(['step.started a', 'step.failed a']);
  });
});

describe('lost workers (code worker-lost)', () => {
  const lose = (run: ReturnType<typeof startFakeScheduler>, step: string, worker: string) =>
    run.fake.fail(step, { code: 'worker-lost', message: `worker ${worker} was lost while running it (its lock lapsed)`, retryable: false, exitCode: null });

  it('runs the step again without using up its retry, at most 3 attempts in a row, the last saying it is given up', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: {} }));
    await flush();
    await lose(run, 'a', 'w1');
    await lose(run, 'a', 'w2');
    await lose(run, 'a', 'w3');
    expect(run.fake.running).toEqual([]);
    const outcome = await run.outcome;
    expect(outcome.status).toBe('failed');
    // Before, a 4th attempt ran, and the final error still said it would run again.
    expect(run.fake.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    const retrying = run.events.filter((e) => e.type === 'step.retrying').map((e) => (e as { error: { message: string } }).error.message);
    expect(retrying).toEqual(['worker w1 was lost while running it (its lock lapsed): the attempt is run again elsewhere', 'worker w2 was lost while running it (its lock lapsed): the attempt is run again elsewhere']);
    expect(run.finals().a).toMatchObject({ type: 'step.failed', attempt: 3, error: { code: 'worker-lost', message: 'worker w3 was lost while running it (its lock lapsed): given up, 3 attempts in a row lost their worker' } });
  });

  it('counts only lost workers in a row, and not against retry: an ordinary failure between them starts the count again', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: { retry: retry(2) } }));
    await flush();
    await lose(run, 'a', 'w1');
    await lose(run, 'a', 'w2');
    await run.fake.fail('a'); // attempt 3, the step's first failure of its own: retried (retry: 2)
    await lose(run, 'a', 'w3');
    await lose(run, 'a', 'w4');
    await run.fake.succeed('a');
    expect((await run.outcome).status).toBe('succeeded');
    expect(run.finals().a).toMatchObject({ type: 'step.succeeded', attempt: 6 });
  });
});

describe('outputs contract', () => {
  it('a contract violation fails the step with code contract and is not retried', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: { retry: retry(3) }, b: { needs: ['a'] } }), {
      checkContract: (_step, outputs) => (typeof outputs.n === 'number' ? undefined : { code: 'contract', message: 'outputs.n must be number' }),
    });
    await flush();
    await run.fake.succeed('a', { outputs: { n: 'seven' } });
    const outcome = await run.outcome;
    expect(outcome.status).toBe('failed');
    expect(run.finals().a).toMatchObject({ type: 'step.failed', error: { code: 'contract', message: 'outputs.n must be number' } });
    expect(run.finals().b?.type).toBe('step.skipped');
    expect(run.fake.attempts).toHaveLength(1);
  });
});

describe('expression context', () => {
  it('a step sees vars, job and the results of the steps it transitively needs, and nothing else', async () => {
    const run = startFakeScheduler(
      jobSpecOf({ a: {}, side: {}, b: { needs: ['a'] }, c: { needs: ['b'], run: 'echo ${{ steps.a.outputs.x }}' } }),
      { vars: { greeting: 'hi' } },
    );
    await flush();
    await run.fake.succeed('a', { outputs: { x: '1' }, text: 'A' });
    await run.fake.succeed('side');
    await run.fake.succeed('b', { exitCode: 0 });
    const ctx = run.fake.current('c').context.contexts as Record<string, Record<string, unknown>>;
    expect(Object.keys(ctx.steps!).sort()).toEqual(['a', 'b']);
    expect(ctx.steps!.a).toEqual({ status: 'succeeded', outputs: { x: '1' }, text: 'A', exit_code: 0 });
    expect(ctx.vars).toEqual({ greeting: 'hi' });
    expect(ctx.job).toMatchObject({ id: 'job-1' });
    await run.fake.succeed('c');
  });

  it('holds the steps its expressions name and its direct needs; every ancestor only when an expression reads steps as a whole', async () => {
    // A context of every ancestor per step would cost O(ancestors) per step: quadratic in a chain.
    const contextOf = async (run: string, extra: Record<string, string> = {}) => {
      const r = startFakeScheduler(jobSpecOf({ a: {}, b: { needs: ['a'] }, c: { needs: ['b'] }, d: { needs: ['c'], run, ...extra } }));
      for (const id of ['a', 'b', 'c']) {
        await flush();
        await r.fake.succeed(id, { outputs: { x: id } });
      }
      await flush();
      const steps = (r.fake.current('d').context.contexts as Record<string, Record<string, unknown>>).steps!;
      await r.fake.succeed('d');
      return Object.keys(steps).sort();
    };
    expect(await contextOf('echo ${{ steps.a.outputs.x }}')).toEqual(['a', 'c']);
    expect(await contextOf('echo ${{ steps.b.outputs.x }}', { if: "steps.a.outputs.x == 'a'" })).toEqual(['a', 'b', 'c']);
    expect(await contextOf('echo ${{ toJSON(steps) }}')).toEqual(['a', 'b', 'c']);
    expect(await contextOf('echo ${{ join(steps.*.outputs.x) }}')).toEqual(['a', 'b', 'c']);
    expect(await contextOf("echo ${{ steps[format('{0}', 'b')].outputs.x }}")).toEqual(['a', 'b', 'c']);
  });
});

describe('external abort (Ctrl-C)', () => {
  it('cancels running steps and everything not started, and the job is cancelled', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: {}, b: {}, c: { needs: ['a'] }, d: {} }), { concurrency: 2 });
    await flush();
    expect(run.fake.running).toEqual(['a', 'b']);
    run.controller.abort();
    const outcome = await run.outcome;
    expect(outcome.status).toBe('cancelled');
    const f = run.finals();
    expect(f.a).toMatchObject({ type: 'step.cancelled', attempt: 1, error: { code: 'cancelled', message: 'cancelled by signal' } });
    expect(f.b).toMatchObject({ type: 'step.cancelled', attempt: 1 });
    expect(f.c).toMatchObject({ type: 'step.cancelled', error: { message: 'not started: cancelled by signal' } });
    expect(f.d).toMatchObject({ type: 'step.cancelled', error: { message: 'not started: cancelled by signal' } });
    expect(run.fake.startOrder).toEqual(['a', 'b']);
    expect(outcome.results.every((r) => r.status === 'cancelled')).toBe(true);
  });

  it('an abort during a retry delay cancels the step before its next attempt', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: { retry: { attempts: 3, delayMs: 60_000, backoff: 'fixed', maxDelayMs: Infinity } } }));
    await flush();
    await run.fake.fail('a');
    expect(run.log()).toEqual(['step.started a', 'step.retrying a']);
    run.controller.abort();
    const outcome = await run.outcome;
    expect(outcome.status).toBe('cancelled');
    expect(run.finals().a).toMatchObject({ type: 'step.cancelled', error: { code: 'cancelled' } });
    expect(run.fake.attempts).toHaveLength(1);
  });
});

describe('a step cancelled while the job was not stopped', () => {
  const cancel = (run: ReturnType<typeof startFakeScheduler>, step: string) =>
    run.fake.current(step).finish({ status: 'cancelled', exitCode: null, text: '', outputs: {}, error: { code: 'cancelled', message: 'the worker was stopped' }, retryable: false });

  it('fails the job (it never completed), continue_on_error or not; its dependents are skipped', async () => {
    const run = startFakeScheduler(jobSpecOf({ t: { continueOnError: true }, deploy: { needs: ['t'] }, other: {} }));
    await flush();
    cancel(run, 't');
    await flush();
    await run.fake.succeed('other');
    const outcome = await run.outcome;
    // Before, the job was recorded succeeded (exit 0) with its deploy step skipped.
    expect(outcome.status).toBe('failed');
    expect(run.finals()).toMatchObject({ t: { type: 'step.cancelled' }, deploy: { type: 'step.skipped' }, other: { type: 'step.succeeded' } });
  });

  it('with on_failure: stop, stops the job as a failure does', async () => {
    const run = startFakeScheduler(jobSpecOf({ t: {}, other: {} }), { failFast: true });
    await flush();
    cancel(run, 't');
    await flush();
    expect(run.fake.running).toEqual([]);
    const outcome = await run.outcome;
    expect(outcome.status).toBe('failed');
    expect(run.finals().other).toMatchObject({ type: 'step.cancelled', error: { message: 'job stopped after step "t" was cancelled' } });
  });
});

describe('empty and trivial jobs', () => {
  it('a job whose steps are all skipped still finishes', async () => {
    const run = startFakeScheduler(jobSpecOf({ a: { if: 'false' }, b: { if: "vars.x == 'y'" } }));
    expect((await run.outcome).status).toBe('succeeded');
    expect(run.fake.attempts).toHaveLength(0);
  });
});
