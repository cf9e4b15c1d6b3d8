// Instances of a fanned step (src/graph/instances.ts): order, ids that follow their values, and bad items.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_INSTANCES, describeShape, planInstances } from '../../../src/graph/instances.js';
import type { InstanceInfo, StepSpec } from '../../../src/specfile/model.js';
import { Redactor } from '../../../src/store/redact.js';
import { jobSpecOf } from '../../helpers/fake-executor.js';

function fanned(fan: Partial<NonNullable<StepSpec['fan']>>): StepSpec {
  const step = jobSpecOf({ count: {} }).steps[0]!;
  return { ...step, fan: { failFast: false, maxInstances: DEFAULT_MAX_INSTANCES, ...fan } };
}

const plan = (step: StepSpec, items?: unknown[], taken: string[] = []) => planInstances({ step, items, isTaken: (id) => taken.includes(id) });
const ids = (r: ReturnType<typeof plan>) => (r as InstanceInfo[]).map((x) => x.id);

describe('planInstances', () => {
  it('takes each matrix combination times each item, the item varying fastest', () => {
    const r = plan(fanned({ matrix: [{ model: 'a' }, { model: 'b' }], forEach: '${{ x }}' }), ['q1', 'q2']) as InstanceInfo[];
    expect(r.map((x) => x.label)).toEqual(['a, q1', 'a, q2', 'b, q1', 'b, q2']);
    expect(r.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    expect(r.map((x) => x.itemIndex)).toEqual([0, 1, 0, 1]);
    expect(ids(r)).toEqual(['count-a-q1', 'count-a-q2', 'count-b-q1', 'count-b-q2']);
  });

  it('derives ids from the values, not the position: the same item keeps its id when the list changes', () => {
    const step = fanned({ forEach: '${{ x }}' });
    const before = ids(plan(step, ['chapter-1.txt', 'chapter-2.txt']));
    const after = ids(plan(step, ['chapter-0.txt', 'chapter-2.txt', 'chapter-1.txt']));
    expect(after).toEqual(expect.arrayContaining(before));
  });

  it('makes values safe as file names, adding a hash when that lost anything, and ids unique (also case-insensitively)', () => {
    const r = ids(plan(fanned({ forEach: '${{ x }}' }), ['docs/a b.md', { path: 'x' }, 'A', 'a', 3, '3']));
    for (const id of r) expect(id).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(r[0]).toMatch(/^count-docs_a_b\.md-[0-9a-f]{10}$/);
    expect(r[1]).toMatch(/^count-_path_x_-[0-9a-f]{10}$/);
    expect(new Set(r.map((id) => id.toLowerCase())).size).toBe(r.length);
    expect(ids(plan(fanned({ forEach: '${{ x }}' }), ['b'], ['count-b']))[0]).toMatch(/^count-b-[0-9a-f]{10}$/);
  });

  it('gives every one of the items whose readable ids collide a hashed id, whatever their order', () => {
    const step = fanned({ forEach: '${{ x }}' });
    const byItem = (items: unknown[]) => new Map((plan(step, items) as InstanceInfo[]).map((x) => [JSON.stringify(x.item), x.id]));
    const one = byItem(['A', 'a', 1, '1', 'README.md', 'readme.md', 'b']);
    const other = byItem(['b', 'readme.md', '1', 'a', 'README.md', 1, 'A']);
    expect(other).toEqual(one);
    for (const item of ['"A"', '"a"', '1', '"1"', '"README.md"', '"readme.md"']) expect(one.get(item)).toMatch(/-[0-9a-f]{10}$/);
    expect(one.get('"b"')).toBe('count-b');
    // Alone, an item keeps its readable id.
    expect(ids(plan(step, ['README.md']))).toEqual(['count-README.md']);
  });

  it('never puts a secret in an id: values holding one (whole, or spelt once characters are replaced) make <step>-<hash>, and the label is masked', () => {
    const redactor = new Redactor(['s3cr3t', 'a_b_c']);
    const step = fanned({ matrix: [{ m: 'x' }], forEach: '${{ x }}' });
    const planned = (items: unknown[]) => planInstances({ step, items, isTaken: () => false, redact: (t) => redactor.redact(t) }) as InstanceInfo[];
    const long = `${'y'.repeat(36)}s3cr3t`; // the 40-character cut would keep 's3cr'
    const r = planned(['s3cr3t', 'pre-s3cr3t', long, 'a/b/c', { id: 's3cr3t' }, 'plain']);
    // Two labels masked alike are told apart by their ids' hashes.
    expect(r.map((x) => x.label)).toEqual([`x, *** #${r[0]!.id.slice(-10)}`, 'x, pre-***', `x, ${'y'.repeat(36)}***`, 'x, a/b/c', `x, *** #${r[4]!.id.slice(-10)}`, 'x, plain']);
    for (const x of r.slice(0, 5)) expect(x.id).toMatch(/^count-[0-9a-f]{10}$/);
    expect(r[5]!.id).toBe('count-x-plain');
    // The hash is of the masked values: another secret in the same place makes the same id, in every run.
    const other = new Redactor(['t0k3n']);
    expect(planInstances({ step, items: ['t0k3n'], isTaken: () => false, redact: (t) => other.redact(t) })).toMatchObject([{ id: r[0]!.id }]);
    // As masked in the records (what a resumed job's for_each reads), a secret makes the id it made.
    expect(ids(plan(step, ['***']))).toEqual([r[0]!.id]);
    // Two items that differ only in their secret are told apart all the same.
    expect(new Set(planned(['s3cr3t', 'a_b_c']).map((x) => x.id)).size).toBe(2);
    // A duplicate is quoted masked before it is cut.
    expect(planInstances({ step, items: [long, long], isTaken: () => false, redact: (t) => redactor.redact(t) })).toEqual({ error: expect.stringContaining(`(${'y'.repeat(36)}***)`) });
    expect(describeShape(`${'y'.repeat(30)}s3cr3t`, (t) => redactor.redact(t))).toBe(`a string ("${'y'.repeat(30)}***")`);
  });

  it('tells apart instances whose labels are the same by their ids\' hashes (JUnit merges test cases of one name); other labels stay as they are', () => {
    const r = plan(fanned({ forEach: '${{ x }}' }), [1, '1', { id: 'x', n: 1 }, { id: 'x', n: 2 }, 'y']) as InstanceInfo[];
    const labels = r.map((x) => x.label);
    expect(new Set(labels).size).toBe(5);
    expect(labels[4]).toBe('y');
    for (const [i, x] of r.slice(0, 4).entries()) expect(x.label, String(i)).toBe(`${i < 2 ? '1' : 'x'} #${x.id.slice(-10)}`);
    // Plain ids whose labels two secrets mask alike: told apart as well.
    const redactor = new Redactor(['a, b', 'c, d']);
    const masked = planInstances({ step: fanned({ matrix: [{ x: 'a', y: 'b' }, { x: 'c', y: 'd' }] }), isTaken: () => false, redact: (t) => redactor.redact(t) }) as InstanceInfo[];
    expect(masked.map((x) => x.id)).toEqual(['count-a-b', 'count-c-d']);
    expect(new Set(masked.map((x) => x.label)).size).toBe(2);
  });

  it('refuses items that are not scalars or mappings, duplicates, and more than max_instances', () => {
    expect(plan(fanned({ forEach: '${{ x }}' }), ['a', null])).toEqual({ error: 'item 1 is null: each item must be a string, a number, a boolean or a mapping' });
    expect(plan(fanned({ forEach: '${{ x }}' }), [[1]])).toEqual({ error: expect.stringContaining('item 0 is an array of 1 item') });
    expect(plan(fanned({ forEach: '${{ x }}' }), [{ a: 1, b: 2 }, 'x', { b: 2, a: 1 }])).toEqual({ error: expect.stringContaining('items 0 and 2 are the same') });
    // Plain names too (each makes a plain id; two alike make it twice), also under a matrix; 1 and "1" are not alike.
    expect(plan(fanned({ forEach: '${{ x }}' }), ['a', 'b', 'a'])).toEqual({ error: expect.stringContaining('items 0 and 2 are the same (a)') });
    expect(plan(fanned({ forEach: '${{ x }}', matrix: [{ m: 1 }, { m: 2 }] }), [7, 'b', 7])).toEqual({ error: expect.stringContaining('items 0 and 2 are the same (7)') });
    expect(plan(fanned({ forEach: '${{ x }}' }), [1, '1'])).toHaveLength(2);
    expect(plan(fanned({ forEach: '${{ x }}', maxInstances: 3, matrix: [{ m: 1 }, { m: 2 }] }), ['a', 'b'])).toEqual({
      error: '2 items × 2 matrix combinations make 4 instances, more than max_instances (3); raise max_instances on the step if you mean it',
    });
  });

  // Its speed (under 100 ms) is a bench row (`npm run bench -- --only fanout`), not a timed test.
  it('expands 10,000 items into 10,000 instances with distinct ids, in item order', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => `file-${i}.txt`);
    const instances = plan(fanned({ forEach: '${{ x }}' }), items) as InstanceInfo[];
    expect(instances).toHaveLength(10_000);
    expect(new Set(instances.map((i) => i.id)).size).toBe(10_000);
    expect(instances.map((i) => i.item)).toEqual(items);
  });
});
