// The end-of-run hint `(orchestrator show <id>)` names the runs folder whenever it is not the default ./runs,
// quoted for the shell, so that pasting it works.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-hint-');

/** The `orchestrator show …` command of a run's summary. */
function hintOf(stdout: string): string {
  const m = /\((orchestrator show [^\n]*)\)$/m.exec(stdout);
  if (!m) throw new Error(`no hint in:\n${stdout}`);
  return m[1]!;
}

/** Run a pasted command line in bash, with `orchestrator` on PATH and no ORCH_RUNS_DIR (a new shell). */
function paste(line: string): { code: number | null; stdout: string } {
  const bin = rig().path('bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'orchestrator'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  const { ORCH_RUNS_DIR: _, ...env } = rig().env({ PATH: `${bin}:${process.env.PATH}` });
  const r = spawnSync('bash', ['-c', line], { cwd: rig().dir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout };
}

describe('the end-of-run hint', () => {
  it('names --runs-dir (quoted) when one was given, and pasting it shows the job', () => {
    rig().write('spec.yaml', 'steps:\n  a:\n    run: exit 3\n');
    const r = rig().run(['run', 'spec.yaml', '--runs-dir', "my runs/it's"]);
    expect(r.code).toBe(1);
    const hint = hintOf(r.stdout);
    const job = fs.readdirSync(rig().path("my runs/it's")).find((n) => /^\d{8}-/.test(n))!;
    expect(hint).toBe(`orchestrator show ${job} --runs-dir 'my runs/it'\\''s'`);
    const shown = paste(hint);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(job);
    expect(shown.stdout).toMatch(/a\s+failed/);
  });

  it('names $ORCH_RUNS_DIR when it is not ./runs; says nothing more for the default', () => {
    rig().write('spec.yaml', 'steps:\n  a:\n    run: "true"\n');
    const elsewhere = rig().path('ci', 'runs');
    const r = rig().run(['run', 'spec.yaml'], { env: { ORCH_RUNS_DIR: elsewhere } });
    expect(r.code).toBe(0);
    expect(hintOf(r.stdout)).toMatch(/^orchestrator show \S+ --runs-dir ci\/runs$/);
    expect(paste(hintOf(r.stdout)).code).toBe(0);

    const plain = rig().run(['run', 'spec.yaml']); // the rig's ORCH_RUNS_DIR is <dir>/runs: the default here
    expect(hintOf(plain.stdout)).toBe(`orchestrator show ${rig().latest()}`);
    expect(paste(hintOf(plain.stdout)).code).toBe(0);
  });
});
