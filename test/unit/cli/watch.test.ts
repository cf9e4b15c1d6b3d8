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
    expect(lines).toEqual(['watching 1 files for changes (Ctrl-C to stop)', 'spec.yaml changed: running again'.replace('spec.yaml', path.relative(process.cwd(), specPath))]);
  }, 20_000);
});
