// matchFiles (src/store/input-hashes.ts) crawls from the folder a step's globs share rather than from the spec's
// folder: the same files either way. The oracle is tinyglobby crawling from the spec's folder, the plain path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { globSync } from 'tinyglobby';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchFiles } from '../../../src/store/input-hashes.js';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-match-'));
  for (const f of ['in/a/x.txt', 'in/a/y.log', 'in/a/skip/z.txt', 'in/a/.hidden', 'in/a/runs/r.txt', 'in/b/w.txt', 'in/b/deep/v.log', 'top.txt', 'top.log', 'out/o.txt']) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), f);
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** What a crawl from the spec's folder finds. */
function fromRoot(patterns: string[], exclude: string[]): string[] {
  const ignore = exclude.map((d) => `${path.relative(root, d).split(path.sep).join('/')}/**`);
  return globSync(patterns, { cwd: root, dot: true, onlyFiles: true, ignore, expandDirectories: false }).sort();
}

describe('matchFiles', () => {
  const cases: [string[], string[]][] = [
    [['in/a/**'], []],
    [['in/a/**', '!in/a/skip/**'], []],
    [['in/a/*.txt', 'in/b/**'], []],
    [['in/**', '!**/*.log'], []],
    [['in/a/**', '!*.txt'], []],
    [['in/a/**', '!top.txt'], []],
    [['in/a/**'], ['in/a/runs']],
    [['in/*/deep/**', 'in/b/w.txt'], []],
    [['in/a/**', 'top.txt'], []],
    [['nope/**'], []],
  ];
  it.each(cases)('%j (excluding %j) finds what a crawl from the spec folder finds', (patterns, exclude) => {
    const abs = exclude.map((d) => path.join(root, d));
    expect(matchFiles(root, patterns, abs)).toEqual(fromRoot(patterns, abs));
  });

  it('finds files under the shared folder, named from the spec folder', () => {
    expect(matchFiles(root, ['in/a/**', '!in/a/skip/**'], [path.join(root, 'in/a/runs')])).toEqual(['in/a/.hidden', 'in/a/x.txt', 'in/a/y.log']);
  });
});
