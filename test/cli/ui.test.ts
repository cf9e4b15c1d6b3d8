// Issue 6: what a user sees. Black-box: the built binary in temp dirs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/orchestrator.js');
let dir: string;
let runsDir: string;
const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH!, HOME: dir, NO_COLOR: '1', ORCH_RUNS_DIR: runsDir, ...extra });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ui-'));
  runsDir = path.join(dir, 'runs');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: env(extra), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function spec(text: string, name = 'spec.yaml'): string {
  fs.writeFileSync(path.join(dir, name), text);
  return name;
}

// ok succeeds, bad fails with markup in its log, after is skipped because bad failed.
const FAILING = `name: mixed
steps:
  ok:
    run: echo fine
  bad:
    run: |
      echo 'line one'
      echo 'expected <b> & "c"'
      exit 3
  after:
    needs: [bad]
    run: echo never
`;

describe('run --junit', () => {
  it('writes JUnit XML: a test case per step, the failure with its log tail, the skipped step with why', () => {
    const r = cli(['run', spec(FAILING), '--junit', 'reports/junit.xml']);
    expect(r.code).toBe(1);
    const xml = fs.readFileSync(path.join(dir, 'reports/junit.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="mixed" tests="3" failures="1" errors="0" skipped="1" /);
    expect(xml).toMatch(/<testcase name="ok" classname="mixed" time="[\d.]+"\/>/);
    expect(xml).toMatch(/<failure message="exit: [^"]*3[^"]*" type="exit">[^<]*line one\nexpected &lt;b&gt; &amp; &quot;c&quot;<\/failure>/);
    expect(xml).toMatch(/<testcase name="after"[^>]*>\s*<skipped message="skipped: [^"]*bad[^"]*"\/>/);
  });

  it('is an error a user can act on when the file cannot be written', () => {
    fs.writeFileSync(path.join(dir, 'taken'), '');
    const r = cli(['run', spec('steps:\n  a:\n    run: "true"\n'), '--junit', 'taken/junit.xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cannot write --junit taken\/junit\.xml: /m);
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  });
});

describe('run --quiet and plain progress', () => {
  it('prints one plain line per event when not on a terminal', () => {
    const r = cli(['run', spec(FAILING)]);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}start +ok$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}FAILED +bad /m);
  });

  it('--quiet prints only the end-of-run summary: failed steps with their log tail, skipped ones with why', () => {
    const r = cli(['run', spec(FAILING), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/start|^\d\d:\d\d:\d\d/m);
    expect(r.stdout).toMatch(/^failed in \S+: 1 succeeded, 1 failed, 1 skipped$/m);
    expect(r.stdout).toMatch(/^✗ bad: exit: .*\n +│ line one\n +│ expected <b> & "c"$/m);
    expect(r.stdout).toMatch(/^↷ after skipped: .*bad/m);
  });

  it('--quiet on a good run still says how it went', () => {
    const r = cli(['run', spec('steps:\n  a:\n    run: "true"\n'), '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')[0]).toMatch(/^succeeded in \S+: 1 succeeded, 0 failed, 0 skipped$/);
  });
});

// A real pseudo-terminal via util-linux `script`, sized with stty (a 0x0 pty shows no live view).
const hasScript = spawnSync('script', ['--version']).status === 0;
describe.skipIf(!hasScript)('live progress on a terminal', () => {
  const inPty = (args: string[], extra: Record<string, string> = {}) => {
    const command = `stty rows 30 cols 100; ${[process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ')}`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, env: { ...env(extra), SHELL: '/bin/bash' }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout.replace(/\r/g, '') };
  };

  it('draws the steps in place and leaves one line per settled step in the scrollback', () => {
    const r = inPty(['run', path.join(ROOT, 'examples/tiny_spec.yaml')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('\u001b[2K'); // redrawn in place
    expect(r.out).toMatch(/0 done · 0 running · 4 queued · 0 failed/);
    for (const id of ['architect', 'builder', 'docs', 'qa']) expect(r.out).toMatch(new RegExp(`✓ ${id} +succeeded +\\d`));
    expect(r.out).not.toMatch(/^\d\d:\d\d:\d\d {2}start/m);
  });

  it('prints plain lines instead when CI is set', () => {
    const r = inPty(['run', path.join(ROOT, 'examples/tiny_spec.yaml')], { CI: 'true' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\d\d:\d\d:\d\d {2}start +architect/m);
    expect(r.out).not.toContain('\u001b[2K');
  });
});

describe('show --timeline', () => {
  it('draws a bar per step with its status and marks the critical path', () => {
    spec(`name: lanes
steps:
  a:
    run: "true"
  slow:
    needs: [a]
    run: sleep 0.3
  fast:
    needs: [a]
    run: "true"
  end:
    needs: [slow, fast]
    run: "true"
  never:
    needs: [end]
    if: \${{ false }}
    run: "true"
`);
    expect(cli(['run', 'spec.yaml', '-q']).code).toBe(0);
    const r = cli(['show', 'latest', '--timeline']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^lanes {2}\S+ {2}succeeded in /);
    for (const id of ['a', 'slow', 'fast', 'end']) expect(r.stdout).toMatch(new RegExp(`^${id} .*│ *█+ *│ +\\S+ succeeded$`, 'm'));
    expect(r.stdout).toMatch(/^never .*│ +│ +- skipped$/m);
    expect(r.stdout).toContain('* critical path: a → slow → end');
    const marked = lines.filter((l) => /^\S+ +\* │/.test(l)).map((l) => l.split(' ')[0]);
    expect(marked.sort()).toEqual(['a', 'end', 'slow']);

    // A mistyped job id: exit 2 and the nearest ids suggested.
    const jobId = fs.readdirSync(runsDir).find((n) => /^\d{8}-/.test(n))!;
    const typo = `${jobId.slice(0, -1)}${jobId.endsWith('z') ? 'y' : 'z'}`;
    const miss = cli(['show', typo, '--timeline']);
    expect(miss.code).toBe(2);
    expect(miss.stderr).toContain(`did you mean "${jobId}"?`);
  });
});

describe('schema', () => {
  it('prints the JSON Schema committed in schema/spec.schema.json', () => {
    const r = cli(['schema']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fs.readFileSync(path.join(ROOT, 'schema/spec.schema.json'), 'utf8'));
    expect(JSON.parse(r.stdout)).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'orchestrator spec', required: ['steps'] });
  });
});

describe('errors a person can act on', () => {
  it('validate shows file:line:col: message and then the offending line with a caret', () => {
    spec('name: x\nsteps:\n  a:\n    run: echo hi\n    needz: [b]\n  b:\n    run: echo\n    needs: [a, nope]\n');
    const r = cli(['validate', 'spec.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(['spec.yaml:5:5: steps.a: unknown key "needz" (did you mean "needs"?)', ' 5 |     needz: [b]', '   |     ^'].join('\n'));
    expect(r.stderr).toMatch(/^spec\.yaml:8:(\d+): .*"nope".*\n 8 \| {5}needs: \[a, nope\]\n {3}\| {5}( *)\^$/m);
    const [, col, pad] = /^spec\.yaml:8:(\d+):.*\n.*\n {3}\| ( *)\^$/m.exec(r.stderr)!;
    expect(pad!.length + 1).toBe(Number(col));
  });

  it('every command has examples in its --help', () => {
    const commands = cli(['--help']).stdout.match(/^ {2}([a-z-]+)(?= )/gm)!.map((s) => s.trim()).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['run', 'validate', 'graph', 'show', 'list-runs', 'schema']));
    for (const command of commands) {
      const r = cli([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toMatch(/\nExamples:\n {2}\$ orchestrator /);
    }
  });
});
