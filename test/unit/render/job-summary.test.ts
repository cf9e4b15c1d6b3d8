import { describe, expect, it } from 'vitest';
import { renderJobSummary, SUMMARY_LIMIT_BYTES } from '../../../src/cli/render/job-summary.js';
import type { StepSpec } from '../../../src/specfile/model.js';
import type { JobManifest, StepRecord } from '../../../src/store/manifest.js';

const record = (status: StepRecord['status']): StepRecord => ({ status, attempts: 1, started_at: null, finished_at: null, duration_s: 0.25, exit_code: 0, cached: false, reused: false, error: null });

function manifest(name: string, ids: string[]): JobManifest {
  return {
    schema_version: 1,
    job_id: '20260101-000000-000-abcde',
    name,
    status: 'succeeded',
    spec: { path: '/x/spec.yaml', sha256: 'f'.repeat(64) },
    started_at: '2026-01-01T00:00:00.000Z',
    finished_at: '2026-01-01T00:00:01.000Z',
    duration_s: 1,
    concurrency: 2,
    pid: 1,
    hostname: 'h',
    steps: Object.fromEntries(ids.map((id) => [id, record('succeeded')])),
    files: [],
  };
}

/** Just what the graph reads of a step. */
const spec = (id: string, needs: string[]) => ({ id, kind: 'shell', needs }) as unknown as StepSpec;

describe('renderJobSummary', () => {
  it('escapes a job name that looks like Markdown or HTML', () => {
    const md = renderJobSummary({ manifest: manifest('<b>x</b> | *y* [z](u)', ['a']), steps: [spec('a', [])], runDir: '/r/runs/j', tail: 10, limit: SUMMARY_LIMIT_BYTES })!;
    expect(md.split('\n')[0]).toBe('## ✅ &lt;b&gt;x&lt;/b&gt; \\| \\*y\\* \\[z\\](u) succeeded in 1.0s');
  });

  it('counts one step as one step', () => {
    const md = renderJobSummary({ manifest: manifest('one', ['a']), steps: [spec('a', [])], runDir: '/r/runs/j', tail: 10, limit: SUMMARY_LIMIT_BYTES })!;
    expect(md).toContain('· 1 step: 1 succeeded, 0 failed ·');
  });

  it('leaves the graph out, saying so, past the 500 edges GitHub draws', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    // Each step needs every earlier one: 780 edges.
    const steps = ids.map((id, i) => spec(id, ids.slice(0, i)));
    const md = renderJobSummary({ manifest: manifest('dense', ids), steps, runDir: '/r/runs/j', tail: 10, limit: SUMMARY_LIMIT_BYTES })!;
    expect(md).not.toContain('```mermaid');
    expect(md).toContain('_The graph is left out: 40 steps and 780 edges are more than GitHub draws.');
    const sparse = renderJobSummary({ manifest: manifest('sparse', ids), steps: ids.map((id, i) => spec(id, i === 0 ? [] : [ids[i - 1]!])), runDir: '/r/runs/j', tail: 10, limit: SUMMARY_LIMIT_BYTES })!;
    expect(sparse).toContain('```mermaid');
  });
});
