// resume and rerun run the job's copy of its spec: when the file at the recorded path was edited since (or is
// gone), they say so on stderr and, with --json, in `notices`, rather than silently run the old spec.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-notices-');
const SPEC = 'steps:\n  a:\n    run: echo a-old\n  b:\n    needs: [a]\n    run: test -f go\n';
const CHANGED = /^note: the spec changed since this job \(.*spec\.yaml\): (resume|rerun) uses the job's copy; `run` takes your edits$/m;

/** A job whose step b failed (no ./go yet), then ./go created so the next attempt passes. */
function failedJob(): string {
  rig().write('spec.yaml', SPEC);
  expect(rig().run(['run', 'spec.yaml']).code).toBe(1);
  rig().write('go', '');
  return rig().latest();
}

describe('resume and rerun after the spec file changed', () => {
  it('resume says the spec changed, in text and in --json, and runs the copy', () => {
    failedJob();
    rig().write('spec.yaml', SPEC.replace('a-old', 'a-new').replace('test -f go', 'echo edited'));
    const text = rig().run(['resume', 'latest']);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(CHANGED);
    expect(text.stderr).toContain('resume uses');
    const first = rig().jobs()[0]!;
    const json = rig().run(['resume', first, '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.notices).toEqual([{ code: 'spec-changed', message: expect.stringContaining("resume uses the job's copy; `run` takes your edits") }]);
    expect(doc.resumed_from).toBe(first);
    // The copy ran: b's command is still `test -f go` (no output), not the edited `echo edited`.
    expect(rig().output('b').text).toBe('');
    expect(rig().output('a').text).toBe('a-old');
  });

  it('rerun says so too', () => {
    failedJob();
    rig().write('spec.yaml', SPEC.replace('a-old', 'a-new'));
    const r = rig().run(['rerun', 'latest', '--step', 'a', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(CHANGED);
    expect(r.stderr).toContain('rerun uses');
    expect(JSON.parse(r.stdout).notices.map((n: { code: string }) => n.code)).toEqual(['spec-changed']);
    expect(rig().output('a').text).toBe('a-old');
  });

  it('an unchanged spec gives no note and no notices field', () => {
    failedJob();
    const r = rig().run(['resume', 'latest', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('note:');
    expect(JSON.parse(r.stdout)).not.toHaveProperty('notices');
  });

  it('a spec file that is gone is not an error: the note says so', () => {
    failedJob();
    fs.rmSync(rig().path('spec.yaml'));
    const r = rig().run(['resume', 'latest', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^note: the spec file .*spec\.yaml is gone: resume uses the job's copy$/m);
    expect(JSON.parse(r.stdout).notices.map((n: { code: string }) => n.code)).toEqual(['spec-gone']);
  });
});
