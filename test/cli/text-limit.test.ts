// steps.<id>.text keeps the first 16 MiB of stdout: a longer one is recorded as truncated, warned about, and
// refused by `output: json`. Black-box: the built binary, a step printing 17 MiB.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-text-limit-');
const LIMIT = 16 * 1024 * 1024;
const PRINT_17_MIB = "head -c 17825792 /dev/zero | tr '\\0' a";

describe('a step printing more than 16 MiB', () => {
  it('keeps the first 16 MiB as its text, records text_truncated, warns once; the log has everything', () => {
    const spec = `steps:
  big:
    run: |
      ${PRINT_17_MIB}
  small:
    run: echo hi
`;
    const r = rig().run(['run', rig().write('spec.yaml', spec), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toEqual(['warning: step "big": stdout is over 16 MiB; steps.big.text holds only its first 16 MiB (the log has all of it)']);
    const out = JSON.parse(fs.readFileSync(rig().runPath('outputs/big.json'), 'utf8')) as { text: string; text_truncated?: boolean };
    expect(out.text_truncated).toBe(true);
    expect(out.text.length).toBe(LIMIT);
    expect(fs.statSync(rig().runPath('logs/big.log')).size).toBe(17825792);
    const m = rig().manifest();
    expect(m.steps.big).toMatchObject({ status: 'succeeded', text_truncated: true });
    expect(JSON.parse(r.stdout).steps.big.text_truncated).toBe(true);
    expect(rig().events().find((e) => e.type === 'step.succeeded' && e.step === 'big')).toMatchObject({ text_truncated: true });
    // Not truncated: the field is absent everywhere.
    expect(m.steps.small).not.toHaveProperty('text_truncated');
    expect(rig().output('small')).not.toHaveProperty('text_truncated');
    expect(rig().events().find((e) => e.type === 'step.succeeded' && e.step === 'small')).not.toHaveProperty('text_truncated');
  });

  it('with output: json fails saying stdout was cut at the limit, not with a parse error', () => {
    const spec = `steps:
  big:
    output: json
    run: |
      ${PRINT_17_MIB}
`;
    const r = rig().run(['run', rig().write('spec.yaml', spec)]);
    expect(r.code).toBe(1);
    const step = rig().manifest().steps.big!;
    expect(step).toMatchObject({ status: 'failed', attempts: 1, text_truncated: true });
    expect(step.error).toEqual({ code: 'output', message: "stdout was cut at 16 MiB, the most a step's stdout is kept in memory: not parsed as JSON for output: json (the log has all of it)" });
    expect(rig().events().find((e) => e.type === 'step.failed')).toMatchObject({ text_truncated: true });
    expect(r.stderr).toContain('warning: step "big": stdout is over 16 MiB');
  });
});
