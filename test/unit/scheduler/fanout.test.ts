// Fan-out in the scheduler, driven by the fake executor: expansion after the needs, max_parallel, fail_fast,
// the ordered gather, and bad for_each values. Assertions on event sequences, never on timings.
import { describe, expect, it } from 'vitest';
import type { GatheredResult } from '../../../src/events/step-result.js';
import { DEFAULT_MAX_INSTANCES } from '../../../src/graph/instances.js';
import type { FanSpec } from '../../../src/specfile/model.js';
import { flush, jobSpecOf, startFakeScheduler } from '../../helpers/fake-executor.js';

const fan = (f: Partial<FanSpec>): FanSpec => ({ failFast: false, maxInstances: DEFAULT_MAX_INSTANCES, ...f });
const forEachList = fan({ forEach: '${{ steps.list.outputs.files }}' });

describe('fan-out', () => {
  it('expands once the steps for_each reads have succeeded, and the gather holds every result in instance order', async () => {
    const run = startFakeScheduler(jobSpecOf({ list: {}, count: { needs: ['list'], fan: forEachList }, after: { needs: ['count'], run: 'echo ${{ steps.count.results }}' } }));
    await flush();
    expect(run.fake.running).toEqual(['list']);
    await run.fake.succeed('list', { outputs: { files: ['a', 'b', 'c'] } });
    expect(run.fake.running).toEqual(['count-a', 'count-b', 'count-c']);
    expect(run.fake.current('count-b').context.contexts).toMatchObject({ item: 'b', item_index: 1 });
    // Settled out of order; gathered in order.
    await run.fake.succeed('count-c', { outputs: { n: 3 } });
    await run.fake.succeed('count-a', { outputs: { n: 1 } });
    expect(run.fake.running).toEqual(['count-b']);
    await run.fake.succeed('count-b', { outputs: { n: 2 } });
    const results = (run.fake.current('after').context.contexts.steps as Record<string, { results: GatheredResult[] }>).count!.results;
    expect(results.map((r) => [r.id, r.outputs.n, r.item])).toEqual([['count-a', 1, 'a'], ['count-b', 2, 'b'], ['count-c', 3, 'c']]);
    await run.fake.succeed('after');
    expect((await run.outcome).status).toBe('succeeded');
    expect(run.log().filter((l) => l.endsWith(' count') || l.includes('expanded'))).toEqual(['step.expanded count', 'step.succeeded count']);
  });

  it('max_parallel holds instances back, released in instance order', async () => {
    const run = startFakeScheduler(jobSpecOf({ m: { fan: fan({ matrix: [{ k: 1 }, { k: 2 }, { k: 3 }, { k: 4 }], maxParallel: 2 }) } }), { concurrency: 4 });
    await flush();
    expect(run.fake.running).toEqual(['m-1', 'm-2']);
    await run.fake.succeed('m-2');
    expect(run.fake.running).toEqual(['m-1', 'm-3']);
    await run.fake.succeed('m-1');
    await run.fake.succeed('m-3');
    await run.fake.succeed('m-4');
    expect(run.fake.maxInFlight).toBe(2);
    expect((await run.outcome).status).toBe('succeeded');
  });

  it('fail_fast: the first failed instance cancels the running ones and the ones not started; without it every instance runs', async () => {
    const spec = (failFast: boolean) => jobSpecOf({ m: { fan: fan({ matrix: [{ k: 1 }, { k: 2 }, { k: 3 }], maxParallel: 2, failFast }) }, other: {} });
    const fast = startFakeScheduler(spec(true));
    await flush();
    await fast.fake.fail('m-1', { retryable: false });
    const finals = fast.finals();
    expect(finals['m-2']).toMatchObject({ type: 'step.cancelled' });
    expect(finals['m-3']).toMatchObject({ type: 'step.cancelled', error: { message: 'not started: fail_fast: instance "m-1" failed' } });
    expect(finals.m).toMatchObject({ type: 'step.failed', instances: { failed: 1, cancelled: 2 } });
    expect(fast.fake.running).toEqual(['other']); // the rest of the job goes on
    await fast.fake.succeed('other');
    expect((await fast.outcome).status).toBe('failed');

    const slow = startFakeScheduler(spec(false));
    await flush();
    await slow.fake.fail('m-1', { retryable: false });
    expect(slow.fake.running).toEqual(['other', 'm-2', 'm-3']);
    await slow.fake.succeed('m-2');
    await slow.fake.succeed('m-3');
    await slow.fake.succeed('other');
    expect(slow.finals().m).toMatchObject({ type: 'step.failed', instances: { failed: 1, succeeded: 2 }, error: { code: 'exit', message: '1 of 3 instances failed; first m-1: exited with code 1' } });
  });

  it('a dependent of a failed fanned step is skipped; an empty for_each succeeds with zero instances', async () => {
    const run = startFakeScheduler(jobSpecOf({ list: {}, count: { needs: ['list'], fan: forEachList }, after: { needs: ['count'] } }));
    await flush();
    await run.fake.succeed('list', { outputs: { files: [] } });
    await run.fake.succeed('after');
    expect(run.log()).toEqual(['step.started list', 'step.succeeded list', 'step.expanded count', 'step.succeeded count', 'step.started after', 'step.succeeded after']);
    expect(run.events.find((e) => e.type === 'step.succeeded' && e.step === 'count')).toMatchObject({ instances: {} });
  });

  it.each([
    [{ files: 'a.txt' }, 'for_each: expected an array, got a string ("a.txt")'],
    [{ files: { a: 1 } }, 'for_each: expected an array, got a mapping with keys a'],
    [{}, 'for_each: expected an array, got null'],
    [{ files: ['a', 'a'] }, 'for_each: items 0 and 1 are the same (a): each instance needs its own item'],
  ])('a for_each value %j fails the step with code expression', async (outputs, message) => {
    const run = startFakeScheduler(jobSpecOf({ list: {}, count: { needs: ['list'], fan: forEachList }, after: { needs: ['count'] } }));
    await flush();
    await run.fake.succeed('list', { outputs });
    expect((await run.outcome).status).toBe('failed');
    expect(run.finals().count).toMatchObject({ type: 'step.failed', error: { code: 'expression', message } });
    expect(run.finals().after).toMatchObject({ type: 'step.skipped' });
  });
});
