// With --json, every command prints exactly one JSON document on stdout, errors included:
// {"ok": false, "problems": [{code, message, file?, line?, col?}]}, the exit code unchanged, no stack on stderr.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCliRig, type CliResult } from '../helpers/cli.js';

const rig = useCliRig('orch-json-errors-');

/** The one JSON document of a failed --json command, after checking the exit code and stderr. */
function problemsOf(r: CliResult, code = 2): { code: string; message: string; file?: string; line?: number; col?: number }[] {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(r.stderr).not.toContain('internal error');
  const doc = JSON.parse(r.stdout);
  expect(doc.ok).toBe(false);
  expect(doc.problems.length).toBeGreaterThan(0);
  return doc.problems;
}

describe('--json on errors', () => {
  it('run: a spec with a cycle, a missing file, a missing argument, a bad option value', () => {
    rig().write('cycle.yaml', 'steps:\n  a:\n    needs: [b]\n    run: x\n  b:\n    needs: [a]\n    run: x\n');
    const cycle = problemsOf(rig().run(['run', 'cycle.yaml', '--json']));
    expect(cycle).toEqual([expect.objectContaining({ code: 'spec-cycle', message: expect.stringContaining('a -> b -> a'), file: 'cycle.yaml', line: expect.any(Number), col: expect.any(Number) })]);
    expect(rig().jobs()).toEqual([]);
    expect(problemsOf(rig().run(['run', 'nosuch.yaml', '--json']))[0]!.code).toBe('spec-read');
    expect(problemsOf(rig().run(['run', '--json']))).toEqual([{ code: 'usage', message: "missing required argument 'spec'" }]);
    expect(problemsOf(rig().run(['run', 'cycle.yaml', '--json', '--concurrency', '0']))[0]!.message).toMatch(/--concurrency.*must be a whole number ≥ 1/);
  });

  it('show: --logs, --tail, --follow and --timeline print text, and with --json are a usage error, not the manifest and exit 0', () => {
    rig().write('spec.yaml', 'steps:\n  a:\n    run: echo hi\n  m:\n    matrix: { k: [x, y] }\n    run: echo ${{ matrix.k }}\n');
    expect(rig().run(['run', 'spec.yaml']).code).toBe(0);
    for (const args of [['--logs', 'a'], ['--logs', 'm'], ['--logs', 'nosuch'], ['--logs', 'a', '--tail', '1'], ['--timeline']]) {
      expect(problemsOf(rig().run(['show', 'latest', ...args, '--json']))[0], args.join(' ')).toMatchObject({ code: 'usage', message: expect.stringContaining('has no --json form') });
    }
    expect(rig().run(['show', 'latest', '--logs', 'a']).stdout).toContain('hi');
  });

  it('show, report, resume, rerun: an unknown job, an empty runs folder', () => {
    for (const cmd of [['show'], ['report'], ['resume'], ['rerun', '--step', 'a']]) {
      const [name, ...rest] = cmd;
      expect(problemsOf(rig().run([name!, 'latest', ...rest, '--json']))[0], name).toMatchObject({ code: 'unknown-job', message: expect.stringMatching(/^no runs in .* yet$/) });
    }
    rig().write('spec.yaml', 'steps:\n  a:\n    run: "true"\n');
    expect(rig().run(['run', 'spec.yaml']).code).toBe(0);
    expect(problemsOf(rig().run(['show', 'nosuch', '--json']))[0]).toMatchObject({ code: 'unknown-job', message: expect.stringContaining('no job "nosuch"') });
    expect(problemsOf(rig().run(['rerun', 'latest', '--step', 'b', '--json']))[0]).toMatchObject({ code: 'usage', message: expect.stringContaining('has no step "b"') });
    expect(problemsOf(rig().run(['rerun', 'latest', '--json']))[0]!.message).toMatch(/required option '-s, --step <id>' not specified/);
  });

  it('list-runs, cache, prune, validate, and an option a command does not have', () => {
    rig().write('not-a-folder', '');
    expect(problemsOf(rig().run(['list-runs', '--json', '--runs-dir', 'not-a-folder']))[0]!.code).toBe('run-folder');
    expect(problemsOf(rig().run(['list-runs', '--json', '--status', 'bogus']))[0]!.code).toBe('usage');
    expect(problemsOf(rig().run(['cache', 'nonsense', '--json']))[0]!.message).toMatch(/expected stats, prune or clear/);
    expect(problemsOf(rig().run(['prune', '--json']))[0]!.message).toMatch(/^prune needs --older-than/);
    expect(problemsOf(rig().run(['prune', '--json', '--older-than', 'soon']))[0]!.message).toMatch(/expected an age/);
    rig().write('bad.yaml', 'steps:\n  a:\n    run: x\n    needz: []\n');
    const validate = rig().run(['validate', 'bad.yaml', '--json']);
    expect(problemsOf(validate)[0]).toMatchObject({ code: 'spec-invalid', file: 'bad.yaml', line: 4 });
    expect(JSON.parse(validate.stdout).file).toBe('bad.yaml');
    expect(problemsOf(rig().run(['graph', 'bad.yaml', '--json']))[0]).toMatchObject({ code: 'usage', message: "unknown option '--json'" });
  });

  it('without --json, errors stay text only; after `--`, --json is an argument', () => {
    const r = rig().run(['show', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(rig().runsDir)).toBe(false);
    const after = rig().run(['show', '--', '--json']);
    expect(after.code).toBe(2);
    expect(after.stdout).toBe('');
  });
});
