// The bench's scripts stay runnable (they run outside `npm test`, so nothing else would notice a broken one):
// every script parses, and `npm run bench` names its groups when asked for one it does not have.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';

const BENCH = path.join(REPO, 'bench');

describe('bench/', () => {
  it.each(fs.readdirSync(BENCH).filter((f) => f.endsWith('.mjs')))('%s parses', (file) => {
    const r = spawnSync(process.execPath, ['--check', path.join(BENCH, file)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('run.mjs refuses an unknown group, naming every group it has', () => {
    const r = spawnSync(process.execPath, [path.join(BENCH, 'run.mjs'), '--only', 'nope'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('unknown group "nope" (startup, per-step, makespan, scale, fanout, llm, workers, cache)');
  });
});
