// SPEC §6–§7 through the binary: bad specs and bad usage exit 2 with `file:line:col: message`,
// no stack trace, and no run folder.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, useCliRig, type CliResult } from '../helpers/cli.js';

const rig = useCliRig('orch-bad-');
const BAD = path.join(REPO, 'test/fixtures/bad');

function copyFixture(name: string): string {
  return rig().write(name, fs.readFileSync(path.join(BAD, name), 'utf8'));
}

/** A fixture's `# expect:` lines, as the CLI prints them for the copy named `file`. */
function expectedOf(file: string): string[] {
  return fs
    .readFileSync(path.join(BAD, file), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => `${file}:${l.slice('# expect: '.length)}`);
}

function expectUserError(r: CliResult): void {
  expect(r.code).toBe(2);
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // no stack frames
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stdout).toBe('');
}

function expectNoRunFolder(): void {
  expect(rig().exists('runs')).toBe(false);
}

describe('a bad spec: exit 2, file:line:col, no run folder', () => {
  it.each([
    ['cycle.yaml', 'cycle.yaml:11:13: cycle: a -> b -> c -> a'],
    ['self-dependency.yaml', 'self-dependency.yaml:4:13: step "build" needs itself'],
    ['unknown-key-typo.yaml', 'unknown-key-typo.yaml:6:5: steps.test: unknown key "nedds" (did you mean "needs"?)'],
    ['unknown-need.yaml', 'unknown-need.yaml:6:13: step "test" needs unknown step "biuld" (did you mean "build"?)'],
    ['duplicate-id.yaml', 'duplicate-id.yaml:5:3: duplicate key "build" (keys, and so step ids, must be unique)'],
    ['wrong-type-run.yaml', 'wrong-type-run.yaml:4:10: steps.build.run: expected a string, got a number (42)'],
    ['expression-syntax.yaml', "expression-syntax.yaml:4:30: steps.build.run: Unexpected end of expression: '=='"],
    ['unclosed-expression.yaml', "unclosed-expression.yaml:4:16: steps.build.run: Unclosed '${{': no matching '}}'"],
    ['not-yaml.yaml', 'not-yaml.yaml:3:10: the value of `build` opens a YAML flow mapping with "{" that is never closed with "}": close it, or, if `build` is meant as text, quote the whole value or use `build: |` with the text on the next lines'],
    ['yaml-colon-in-value.yaml', 'yaml-colon-in-value.yaml:7:26: ": " inside the value of `run` starts a nested mapping in YAML: quote the value or use `run: |` with the text on the next lines'],
    ['yaml-tab-indent.yaml', 'yaml-tab-indent.yaml:5:1: tabs are not allowed in YAML indentation: indent with spaces'],
    ['yaml-flow-mapping-value.yaml', 'yaml-flow-mapping-value.yaml:4:10: steps.a.run: expected a string, got a mapping; "{" at the start of a value opens a YAML flow mapping: if `run` is meant as text, quote the whole value or use `run: |` with the text on the next lines'],
  ])('run %s', (name, firstLine) => {
    const file = copyFixture(name);
    const r = rig().run(['run', file]);
    expectUserError(r);
    expect(r.stderr.split('\n')[0]).toBe(firstLine);
    expectNoRunFolder();
  });

  it('lists every problem of a spec, each with its position', () => {
    const file = copyFixture('many-problems.yaml');
    const r = rig().run(['run', file]);
    expectUserError(r);
    const located = r.stderr.split('\n').filter((l) => l.startsWith(`${file}:`));
    const expected = expectedOf(file);
    expect(located).toEqual(expected);
    expect(located).toHaveLength(5);
    expectNoRunFolder();
  });

  it('validate: each YAML trap of a file is said in plain words, as when alone, and none is lost', () => {
    const file = copyFixture('yaml-several-traps.yaml');
    const r = rig().run(['validate', file]);
    expectUserError(r);
    const expected = expectedOf(file);
    expect(r.stderr.split('\n').filter((l) => l.startsWith(`${file}:`))).toEqual(expected);
    expect(expected).toHaveLength(5);
  });

  it('refuses a spec over 5 MiB', () => {
    rig().write('huge.yaml', `steps:\n  a:\n    run: echo\n# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const r = rig().run(['run', 'huge.yaml']);
    expectUserError(r);
    expect(r.stderr).toMatch(/^huge\.yaml: spec is \d+ bytes; the limit is 5242880 \(5 MiB\)\n$/);
    expectNoRunFolder();
  });

  it('refuses a YAML alias bomb quickly', () => {
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(',')}]`);
    rig().write('bomb.yaml', `${lines.join('\n')}\nsteps:\n  a:\n    run: echo\n`);
    const r = rig().run(['run', 'bomb.yaml'], { timeoutMs: 10_000 });
    expectUserError(r);
    expect(r.stderr.split('\n')[0]).toBe('bomb.yaml:7:14: too many YAML aliases: with this one the document expands past 2621440 values (aliases of aliases multiply), out of all proportion');
    expectNoRunFolder();
  });

  it('a missing spec file', () => {
    const r = rig().run(['run', 'nope.yaml']);
    expectUserError(r);
    expect(r.stderr).toBe('nope.yaml: no such spec file\n');
    expectNoRunFolder();
  });

  it('validate: same messages, exit 2; --json puts {ok:false, problems} on stdout', () => {
    const file = copyFixture('cycle.yaml');
    const plain = rig().run(['validate', file]);
    expect(plain.code).toBe(2);
    expect(plain.stderr.split('\n')[0]).toBe('cycle.yaml:11:13: cycle: a -> b -> c -> a');
    const json = rig().run(['validate', file, '--json']);
    expect(json.code).toBe(2);
    const doc = JSON.parse(json.stdout) as { ok: boolean; problems: { code: string; message: string; line: number; col: number; file: string }[] };
    expect(doc.ok).toBe(false);
    expect(doc.problems).toEqual([{ code: 'spec-cycle', message: 'cycle: a -> b -> c -> a', file: 'cycle.yaml', line: 11, col: 13 }]);
    expectNoRunFolder();
  });
});

describe('bad usage: exit 2', () => {
  it('--concurrency 0 is refused before anything runs', () => {
    rig().write('ok.yaml', 'steps:\n  a:\n    run: echo hi\n');
    for (const n of ['0', '1.5']) {
      const r = rig().run(['run', 'ok.yaml', '--concurrency', n]);
      expect(r.code, `--concurrency ${n}`).toBe(2);
      expect(r.stderr).toMatch(/concurrency/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expectNoRunFolder();
  });

  it('--var without = is refused', () => {
    rig().write('ok.yaml', 'steps:\n  a:\n    run: echo hi\n');
    const r = rig().run(['run', 'ok.yaml', '--var', 'novalue']);
    expectUserError(r);
    expect(r.stderr).toMatch(/--var expects key=value, got "novalue"/);
    expectNoRunFolder();
  });

  it('an unknown command or option', () => {
    expect(rig().run(['rnu', 'x.yaml']).code).toBe(2);
    expect(rig().run(['list-runs', '--bogus']).code).toBe(2);
  });

  it('an unknown job, and a prefix that matches several jobs (listing them)', () => {
    rig().write('ok.yaml', 'steps:\n  a:\n    run: "true"\n');
    expect(rig().run(['run', 'ok.yaml']).code).toBe(0);
    expect(rig().run(['run', 'ok.yaml']).code).toBe(0);
    const [first, second] = rig().jobs();

    const unknown = rig().run(['show', 'nope']);
    expectUserError(unknown);
    expect(unknown.stderr).toMatch(/^no job "nope" in /);

    // Their common start (at least the century) is an ambiguous prefix.
    let prefix = '';
    while (first![prefix.length] === second![prefix.length]) prefix += first![prefix.length];
    expect(prefix.length).toBeGreaterThanOrEqual(2);
    const ambiguous = rig().run(['show', prefix]);
    expectUserError(ambiguous);
    expect(ambiguous.stderr).toContain(`"${prefix}" matches 2 jobs`);
    expect(ambiguous.stderr).toContain(first!);
    expect(ambiguous.stderr).toContain(second!);

    // A unique prefix works.
    expect(rig().run(['show', second!.slice(0, -2)]).code).toBe(0);
  });

  it('show latest with no runs yet', () => {
    const r = rig().run(['show', 'latest']);
    expectUserError(r);
    expect(r.stderr).toMatch(/no runs in .* yet/);
  });
});
