import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchRuns } from '../../../src/cli/commands/watch.js';
import type { JobSpec } from '../../../src/specfile/model.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-watch-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('run --watch', () => {
  it('is watching when it says so: a file changed the moment the line is printed starts the next run', async () => {
    const specPath = path.join(dir, 'spec.yaml');
    fs.writeFileSync(specPath, 'steps: {}\n');
    const spec = { path: specPath, steps: [] } as unknown as JobSpec;
    const lines: string[] = [];
    let runs = 0;
    const code = await watchRuns({
      load: async () => spec,
      run: async () => (++runs === 2 ? 130 : 0), // the second run stands for Ctrl-C
      runsDir: path.join(dir, 'runs'),
      say: (line) => {
        lines.push(line);
        // A reader as quick as can be: it edits the spec before the command has taken another breath.
        if (line.startsWith('watching')) fs.appendFileSync(specPath, '# edited\n');
      },
    });
    expect(code).toBe(130);
    expect(runs).toBe(2);
    expect(lines).toEqual(['watching 1 file for changes (Ctrl-C to stop)', 'spec.yaml changed: running again'.replace('spec.yaml', path.relative(process.cwd(), specPath))]);
  }, 20_000);

  it("watches a fanned step's cache globs as its last run's instances rendered them: each instance's files, new ones too, and nothing the glob would match with its expression widened", async () => {
    const specPath = path.join(dir, 'spec.yaml');
    fs.writeFileSync(specPath, 'steps: {}\n');
    for (const [rel, text] of <[string, string][]>[['pkgs/a/x.txt', 'a'], ['pkgs/b/y.txt', 'b'], ['pkgs/c/z.txt', 'not an instance of the last run'], ['other.txt', 'top level']]) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    }
    const lint = { id: 'lint', cache: true, shellCache: { inputs: ['pkgs/${{ matrix.pkg }}/**'], outputs: [], env: [] } };
    const spec = { path: specPath, vars: {}, steps: [lint] } as unknown as JobSpec;
    const lines: string[] = [];
    let runs = 0;
    const code = await watchRuns({
      load: async () => spec,
      run: async (_spec, sink) => {
        if (++runs === 2) return 130;
        const instances = ['a', 'b'].map((pkg) => ({ id: `lint-${pkg}`, label: pkg, matrix: { pkg } }));
        sink.emit({ type: 'step.expanded', step: 'lint', instances } as unknown as Parameters<typeof sink.emit>[0]);
        return 0;
      },
      runsDir: path.join(dir, 'runs'),
      say: (line) => {
        lines.push(line);
        if (line.startsWith('watching')) fs.writeFileSync(path.join(dir, 'pkgs/b/new.txt'), 'new');
      },
    });
    expect(code).toBe(130);
    // spec.yaml, pkgs/a/x.txt and pkgs/b/y.txt: not pkgs/c (no such instance last time), not other.txt (`*` would match it).
    expect(lines[0]).toBe('watching 3 files for changes (Ctrl-C to stop)');
    expect(lines[1]).toBe(`${path.relative(process.cwd(), path.join(dir, 'pkgs/b/new.txt'))} changed: running again`);
  }, 20_000);
});
