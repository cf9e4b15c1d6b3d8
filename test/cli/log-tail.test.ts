// A failed step's log in the summary, the JUnit failure and `show --logs`: the lines that look like failures come
// before the tail, `--tail N` sets its length, `--follow` keeps printing a running step's log. Black-box: the built binary.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, useCliRig, type CliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-log-tail-');

// A `node --test`-like report: the failing test 40 lines above the end, the counts at the end.
const TAP = `name: tap
steps:
  test:
    run: |
      echo "TAP version 13"
      echo "ok 1 - add"
      echo "not ok 2 - mul"
      for i in $(seq 1 38); do echo "  at line $i"; done
      echo "# tests 2"
      echo "# fail 1"
      exit 1
`;

describe('the summary of a failed step', () => {
  it('shows the failure line above the default 10-line tail, marked, once', () => {
    const r = rig().run(['run', rig().write('spec.yaml', TAP), '--quiet']);
    expect(r.code).toBe(1);
    const job = rig().latest();
    expect(r.stdout).toContain(
      [
        '✗ test: exit: exited with code 1',
        '    │ lines above that look like failures (1):',
        '    » not ok 2 - mul',
        `    │ … 33 earlier lines: orchestrator show ${job} --logs test`,
        '    │   at line 31',
      ].join('\n'),
    );
    expect(r.stdout.match(/not ok 2 - mul/g)).toHaveLength(1);
    expect(r.stdout.trimEnd().split('\n').filter((l) => l.startsWith('    │   at line'))).toHaveLength(8);
  });

  it('after retries, quotes the last attempt alone: its failure line once, not once per attempt', () => {
    const spec = TAP.replace('  test:\n', '  test:\n    retry: { attempts: 3, delay: 10ms }\n').replace('echo "not ok 2 - mul"', 'n=$(( $(cat tries 2>/dev/null || echo 0) + 1 )); echo $n > tries; echo "not ok 2 - mul (attempt $n)"');
    const r = rig().run(['run', rig().write('spec.yaml', spec), '--quiet', '--junit', 'junit.xml', '--summary', 'summary.md']);
    expect(r.code).toBe(1);
    const job = rig().latest();
    for (const file of ['junit.xml', 'summary.md']) {
      const text = fs.readFileSync(rig().path(file), 'utf8');
      expect(text, file).toContain('not ok 2 - mul (attempt 3)');
      expect(text, file).not.toMatch(/attempt [12]\)/);
    }
    expect(fs.readFileSync(rig().path('summary.md'), 'utf8')).toContain('last 10 lines of its log (attempt 3 of 3)');
    expect(r.stdout).toContain(
      [
        '✗ test: exit: exited with code 1 (after 3 attempts)',
        '    │ lines above that look like failures (1):',
        '    » not ok 2 - mul (attempt 3)',
        `    │ … the log of attempt 3 of 3, 33 earlier lines of it (the earlier attempts': orchestrator show ${job} --logs test)`,
        '    │   at line 31',
      ].join('\n'),
    );
    expect(r.stdout).not.toMatch(/attempt [12]\)/);
  });

  it('--tail 50 shows the whole of this log: the failure line in place, not repeated above', () => {
    const r = rig().run(['run', rig().write('spec.yaml', TAP), '--quiet', '--tail', '50']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ test: exit: exited with code 1\n {4}│ TAP version 13\n {4}│ ok 1 - add\n {4}│ not ok 2 - mul\n/);
    expect(r.stdout).not.toMatch(/look like failures|earlier lines/);
    expect(r.stdout.match(/not ok 2 - mul/g)).toHaveLength(1);
  });

  it('--tail must be a whole number ≥ 1', () => {
    const r = rig().run(['run', rig().write('spec.yaml', TAP), '--tail', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tail.*must be a whole number ≥ 1/);
  });

  it('at most 10 failure lines, the last ones, each cut to 200 characters', () => {
    const spec = `steps:
  many:
    run: |
      for i in $(seq 1 14); do echo "FAIL case $i $(printf 'x%.0s' $(seq 1 300))"; done
      for i in $(seq 1 10); do echo "tail $i"; done
      exit 1
`;
    const r = rig().run(['run', rig().write('spec.yaml', spec), '--quiet']);
    const marked = r.stdout.split('\n').filter((l) => l.startsWith('    » '));
    expect(r.stdout).toContain('lines above that look like failures (the last 10 of 14):');
    expect(marked.map((l) => /FAIL case (\d+)/.exec(l)?.[1])).toEqual(['5', '6', '7', '8', '9', '10', '11', '12', '13', '14']);
    expect(marked.every((l) => l.length === '    » '.length + 200 && l.endsWith('…'))).toBe(true);
  });

  it('JUnit quotes the failure line before its 50-line tail', () => {
    const spec = TAP.replace('seq 1 38', 'seq 1 60');
    expect(rig().run(['run', rig().write('spec.yaml', spec), '--junit', 'junit.xml']).code).toBe(1);
    const xml = fs.readFileSync(rig().path('junit.xml'), 'utf8');
    expect(xml).toMatch(/type="exit">exit: exited with code 1\nlines above that look like failures:\nnot ok 2 - mul\n…\n {2}at line 13\n/);
    expect(xml).toMatch(/ {2}at line 60\n# tests 2\n# fail 1<\/failure>/);
  });
});

describe('show --logs', () => {
  it('--tail N prints the last N lines', () => {
    rig().run(['run', rig().write('spec.yaml', TAP)]);
    const r = rig().run(['show', 'latest', '--logs', 'test', '--tail', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('  at line 38\n# tests 2\n# fail 1\n');
    expect(rig().run(['show', 'latest', '--logs', 'test']).stdout).toBe(fs.readFileSync(rig().runPath('logs/test.log'), 'utf8'));
  });

  it('--tail or --follow without --logs is a usage error', () => {
    rig().run(['run', rig().write('spec.yaml', TAP)]);
    const r = rig().run(['show', 'latest', '--follow']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('--follow goes with --logs <step>\n');
  });
});

/** A step that prints a line, waits for the file `go` in the test's dir, prints another and exits. */
const WAITER = `steps:
  waiter:
    run: |
      echo first
      while [ ! -e go ]; do sleep 0.02; done
      echo second
`;

/** Start `orchestrator …args` and collect its output as it comes. */
function start(r: CliRig, args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: r.dir, env: r.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const got = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (got.stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (got.stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, got, exited };
}

/** Resolves when `check` holds, looking again every few milliseconds; fails after a generous minute. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('show --logs --follow', () => {
  it('prints the log so far, then what the running step adds, and ends with it (exit 0)', async () => {
    const r = rig();
    const run = start(r, ['run', r.write('spec.yaml', WAITER)]);
    try {
      await until(() => r.jobs().length === 1 && fs.existsSync(r.runPath('logs/waiter.log')) && r.log('waiter') === 'first\n', 'the step to print its first line');
      const follow = start(r, ['show', 'latest', '--logs', 'waiter', '--follow']);
      await until(() => follow.got.stdout === 'first\n', 'the follower to print the first line');
      r.write('go', '');
      expect(await follow.exited).toBe(0);
      expect(follow.got).toEqual({ stdout: 'first\nsecond\n', stderr: '' });
    } finally {
      r.write('go', '');
      expect(await run.exited).toBe(0);
    }
  });

  it('Ctrl-C ends it quietly with 130', async () => {
    const r = rig();
    const run = start(r, ['run', r.write('spec.yaml', WAITER)]);
    try {
      await until(() => r.jobs().length === 1 && fs.existsSync(r.runPath('logs/waiter.log')), 'the step to start printing');
      const follow = start(r, ['show', 'latest', '--logs', 'waiter', '--follow', '--tail', '1']);
      await until(() => follow.got.stdout === 'first\n', 'the follower to print the first line');
      follow.child.kill('SIGINT');
      expect(await follow.exited).toBe(130);
      expect(follow.got).toEqual({ stdout: 'first\n', stderr: '' });
    } finally {
      r.write('go', '');
      expect(await run.exited).toBe(0);
    }
  });

  it('on a finished job it prints the log and ends', () => {
    rig().run(['run', rig().write('spec.yaml', TAP)]);
    const r = rig().run(['show', 'latest', '--logs', 'test', '--follow', '--tail', '1']);
    expect(r).toEqual({ code: 0, stdout: '# fail 1\n', stderr: '' });
  });
});
