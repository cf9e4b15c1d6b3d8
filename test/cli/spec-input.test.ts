// How a spec may be written and handed over: YAML merge keys and `x-` keys as homes for anchors (as in
// docker-compose), and a spec on stdin (`run -`, `run /dev/stdin`, `validate -`).
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-spec-input-');

describe('YAML merge keys and x- keys', () => {
  const spec = [
    'x-defaults: &defaults',
    '  timeout: 30s',
    '  env: { GREETING: hello }',
    'x-anything: { not: [a, spec, key] }',
    'steps:',
    '  a:',
    '    <<: *defaults',
    '    x-note: the user\'s own, ignored',
    '    run: echo "$GREETING from a"',
    '  b:',
    '    <<: [*defaults, { env: { GREETING: hi } }]',
    '    needs: [a]',
    '    timeout: 5s',
    '    run: echo "$GREETING from b"',
    '  x-c:',
    '    run: echo "a step whose id starts with x- is a step"',
    '',
  ].join('\n');

  it('merges `<<: *anchor` (later keys win) and ignores x- keys at the top and in steps', () => {
    rig().write('merge.yaml', spec);
    expect(rig().run(['validate', 'merge.yaml'])).toMatchObject({ code: 0, stdout: 'merge.yaml: ok (3 steps)\n' });
    const r = rig().run(['run', 'merge.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(rig().log('a')).toBe('hello from a\n');
    expect(rig().log('b')).toBe('hello from b\n'); // the first mapping of a merge list wins over later ones
    expect(rig().log('x-c')).toContain('is a step');
    expect(Object.keys(rig().manifest().steps)).toEqual(['a', 'b', 'x-c']);
    expect(rig().run(['show', 'latest']).stdout).toMatch(/^a +succeeded +1 +\S+ +30.0s .*\n^b +succeeded +1 +\S+ +5.0s /m);
  });

  it('a key brought in by a merge is checked like one written out, at the merge key', () => {
    rig().write('bad.yaml', 'x-d: &d { runn: echo }\nsteps:\n  a:\n    <<: *d\n    run: echo\n  b:\n    <<: 1\n    run: echo\n');
    const r = rig().run(['validate', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bad\.yaml:7:5: a merge key `<<:` takes a mapping, an alias of one/m);
    rig().write('bad2.yaml', 'x-d: &d { runn: echo }\nsteps:\n  a:\n    <<: *d\n    run: echo\n');
    expect(rig().run(['validate', 'bad2.yaml']).stderr).toMatch(/^bad2\.yaml:4:5: steps\.a: unknown key "runn" \(did you mean "run"\?\)$/m);
  });

  it('`orchestrator schema` allows x- keys at the top and in steps, and nothing else new', () => {
    const schema = JSON.parse(rig().run(['schema']).stdout) as { patternProperties?: object; additionalProperties?: boolean; properties: { steps: { additionalProperties: { patternProperties?: object; additionalProperties?: boolean } } } };
    expect(Object.keys(schema.patternProperties ?? {})).toEqual(['^x-']);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties.steps.additionalProperties.patternProperties ?? {})).toEqual(['^x-']);
  });
});

describe('a spec on stdin', () => {
  const spec = 'steps:\n  a:\n    run: pwd > where.txt; echo kept > "$ORCH_ARTIFACTS/k.txt"\n  b:\n    needs: [a]\n    run: test -f go\n';

  it.each(['-', '/dev/stdin'])('`run %s` runs it in the current directory and keeps it in inputs/spec.yaml; resume works from that copy', (arg) => {
    const r = rig().run(['run', arg], { input: spec });
    expect(r.code).toBe(1); // b fails until ./go exists
    expect(r.stdout).toMatch(/job\s+stdin\s+/);
    expect(fs.readFileSync(rig().path('where.txt'), 'utf8')).toBe(`${rig().dir}\n`);
    expect(fs.readFileSync(rig().runPath('inputs/spec.yaml'), 'utf8')).toBe(spec);
    expect(rig().manifest()).toMatchObject({ name: 'stdin', spec: { path: rig().path('<stdin>') } });

    rig().write('go', '');
    const again = rig().run(['resume', 'latest'], { input: '' });
    expect(again.stderr).toBe(''); // no "spec file is gone" notice: stdin has no file to compare with
    expect(again.code).toBe(0);
    expect(rig().manifest().steps.a!.reused).toBe(true);
    expect(rig().manifest().steps.b!.status).toBe('succeeded');
  });

  it('`validate -` names <stdin> in every position; nothing is run', () => {
    const r = rig().run(['validate', '-'], { input: 'steps:\n  a:\n    runn: x\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^<stdin>:2:3: step "a" needs exactly one of `run` or `prompt`$/m);
    expect(r.stderr).toMatch(/^<stdin>:3:5: steps\.a: unknown key "runn"/m);
    expect(rig().run(['validate', '-', '--json'], { input: 'steps:\n  a:\n    run: x\n' })).toMatchObject({ code: 0 });
    expect(rig().jobs()).toEqual([]);
  });

  it('a syntax error on stdin is placed at <stdin>:line:col', () => {
    const r = rig().run(['run', '-'], { input: 'steps:\n  a:\n    run: echo\n   b: 1\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^<stdin>:\d+:\d+: /);
    expect(rig().jobs()).toEqual([]);
  });
});
