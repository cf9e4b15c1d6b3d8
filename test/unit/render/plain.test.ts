import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { PlainRenderer } from '../../../src/cli/render/plain.js';
import type { RunEvent } from '../../../src/events/types.js';

const started = (steps: string[]) =>
  ({ ts: '2026-01-01T00:00:00.000Z', seq: 1, job_id: 'job-1', type: 'job.started', name: 'tiny', spec_path: 's.yaml', concurrency: 4, pid: 1, steps, vars: {} }) as unknown as RunEvent;

describe('PlainRenderer', () => {
  it('counts the steps of a job in words that fit the number', () => {
    const plain = new PlainRenderer(process.stdout, new Chalk({ level: 0 }));
    expect(plain.format(started(['a']))).toBe('job     tiny  job-1  1 step, concurrency 4');
    expect(plain.format(started(['a', 'b']))).toBe('job     tiny  job-1  2 steps, concurrency 4');
  });
});
