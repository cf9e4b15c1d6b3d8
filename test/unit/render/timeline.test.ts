import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { renderTimeline } from '../../../src/cli/render/timeline.js';
import type { JobManifest, StepRecord } from '../../../src/store/manifest.js';

const plain = new Chalk({ level: 0 });
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function step(status: StepRecord['status'], from: number | null, to: number | null, extra: Partial<StepRecord> = {}): StepRecord {
  return {
    status,
    attempts: from === null ? 0 : 1,
    started_at: from === null ? null : at(from),
    finished_at: to === null ? null : at(to),
    duration_s: from !== null && to !== null ? to - from : null,
    exit_code: status === 'succeeded' ? 0 : null,
    cached: false,
    reused: false,
    error: status === 'succeeded' || status === 'running' ? null : { code: status === 'failed' ? 'exit' : status === 'skipped' ? 'skipped' : 'cancelled', message: 'why' },
    ...extra,
  };
}

function manifest(steps: Record<string, StepRecord>, end: number | null, status: JobManifest['status'] = 'succeeded'): JobManifest {
  return {
    schema_version: 1,
    job_id: '20260101-000000-000-abcde',
    name: 'demo',
    status,
    spec: { path: '/x/spec.yaml', sha256: 'f'.repeat(64) },
    started_at: at(0),
    finished_at: end === null ? null : at(end),
    duration_s: end,
    concurrency: 2,
    pid: 1,
    hostname: 'h',
    steps,
    files: [],
  };
}

// a(0-2) → b(2-10) and c(2-4) → d(10-12); e skipped.
const diamond = manifest(
  {
    a: step('succeeded', 0, 2),
    b: step('succeeded', 2, 10),
    c: step('succeeded', 2, 4),
    d: step('failed', 10, 12),
    e: step('skipped', null, null),
  },
  12,
  'failed',
);
const needs = { a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: ['d'] };

/** The bar of a step's line: the text between the two │. */
function bar(out: string, id: string): string {
  const line = out.split('\n').find((l) => l.startsWith(`${id} `))!;
  return line.slice(line.indexOf('│') + 1, line.lastIndexOf('│'));
}

describe('renderTimeline', () => {
  it('draws one bar per step on a shared axis, with duration and status', () => {
    const out = renderTimeline(diamond, { width: 80, colors: plain, needs });
    expect(out.split('\n')[0]).toBe('demo  20260101-000000-000-abcde  failed in 12.0s');
    for (const [id, status] of [['a', 'succeeded'], ['b', 'succeeded'], ['c', 'succeeded'], ['d', 'failed'], ['e', 'skipped']]) {
      expect(out).toMatch(new RegExp(`^${id} .*│.*│ .* ${status}$`, 'm'));
    }
    // b runs 4x as long as c, starting at the same time; d starts where b ends.
    const [bBar, cBar, dBar] = [bar(out, 'b'), bar(out, 'c'), bar(out, 'd')];
    expect(bBar.indexOf('█')).toBe(cBar.indexOf('█'));
    expect(bBar.trim().length).toBeGreaterThan(3 * cBar.trim().length);
    expect(dBar.indexOf('█')).toBe(bBar.lastIndexOf('█') + 1);
    expect(bar(out, 'e').trim()).toBe('');
    expect(out).toMatch(/^ +└─+┴.*┘$/m);
  });

  it('marks the critical path: the chain of needs that ended last', () => {
    const out = renderTimeline(diamond, { width: 80, colors: plain, needs });
    const marked = out.split('\n').filter((l) => /^\S+ +\* │/.test(l)).map((l) => l.split(' ')[0]);
    expect(marked).toEqual(['a', 'b', 'd']);
    expect(out).toContain('* critical path: a → b → d  (12.0s of steps in 12.0s)');
  });

  it('infers the critical path from timing when the needs are unknown', () => {
    const out = renderTimeline(diamond, { width: 80, colors: plain });
    expect(out).toContain('critical path: a → b → d');
  });

  it('fits the width it is given', () => {
    for (const width of [60, 80, 140]) {
      const lines = renderTimeline(diamond, { width, colors: plain, needs }).split('\n');
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(width);
      expect(bar(lines.join('\n'), 'a').length).toBeGreaterThan(width / 3);
    }
  });

  it('draws a running step up to now', () => {
    const m = manifest({ a: step('succeeded', 0, 2), b: step('running', 2, null) }, null, 'running');
    const out = renderTimeline(m, { width: 80, colors: plain, now: T0 + 4000 });
    expect(bar(out, 'b').trimEnd().endsWith('█')).toBe(true);
    expect(out).toMatch(/^b .* 2\.0s running$/m);
  });

  it('says so when no step has started', () => {
    const m = manifest({ a: step('skipped', null, null) }, 0, 'failed');
    expect(renderTimeline(m, { width: 80, colors: plain })).toContain('no step has started');
  });

  it("draws the instances of a fanned step of many as show lists them: those that did not succeed, the rest counted", () => {
    const fan = (n: number) => {
      const ids = Array.from({ length: n }, (_, i) => `count-${i}`);
      const steps: Record<string, StepRecord> = { count: step('failed', 0, 3, { instances: ids }) };
      ids.forEach((id, i) => (steps[id] = step(i === 4 ? 'failed' : 'succeeded', i * 0.1, i * 0.1 + 0.1, { instance_of: 'count' })));
      return renderTimeline(manifest(steps, 3, 'failed'), { width: 80, colors: plain, needs: { count: [] } });
    };
    const many = fan(500);
    expect(many.split('\n').filter((l) => l.includes('│') && !l.includes('└'))).toHaveLength(2); // count and count-4
    expect(many).toMatch(/^count-4 .* failed$/m);
    expect(many).not.toMatch(/^count-0 /m);
    expect(many).toContain('count: 499 more instances succeeded (show --json lists every one)');
    // One left over is one instance.
    const ids = Array.from({ length: 21 }, (_, i) => `count-${i}`);
    const steps: Record<string, StepRecord> = { count: step('failed', 0, 3, { instances: ids }) };
    ids.forEach((id, i) => (steps[id] = step(i === 0 ? 'succeeded' : 'failed', 0, 0.1, { instance_of: 'count' })));
    expect(renderTimeline(manifest(steps, 3, 'failed'), { width: 80, colors: plain, needs: { count: [] } })).toContain('count: 1 more instance succeeded (show --json lists every one)');
    const few = fan(5);
    expect(few).toMatch(/^count-0 /m);
    expect(few).not.toContain('more instances');
  });

  it('counts the time of a critical step that never settled (interrupted by a kill) by its bar', () => {
    const steps = { t: step('interrupted', 0, null) };
    const out = renderTimeline(manifest(steps, null, 'interrupted'), { width: 80, colors: plain, needs: { t: [] }, now: T0 + 1500 });
    expect(out).toContain('* critical path: t  (1.5s of steps in 1.5s)');
  });

  it('paints bars by status when colours are on', () => {
    const out = renderTimeline(diamond, { width: 80, colors: new Chalk({ level: 1 }), needs });
    expect(out).toContain('\u001b[31m█'); // failed: red
    expect(out).toContain('\u001b[32m█'); // succeeded: green
  });
});
