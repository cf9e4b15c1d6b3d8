// matchFiles (src/store/input-hashes.ts) crawls from the folder a step's globs share rather than from the spec's
// folder: the same files either way. The oracle is tinyglobby crawling from the spec's folder, the plain path.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { globSync } from 'tinyglobby';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputHashes, matchFiles } from '../../../src/store/input-hashes.js';

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

describe('InputHashes', () => {
  /** An input file old enough to be trusted by its stat, hashed once and remembered; the remembered file, read back. */
  function remembered(): { runsDir: string; spec: string; file: string; saved: { files: Record<string, Record<string, unknown>> } } {
    const runsDir = path.join(root, 'hashes-runs');
    fs.rmSync(runsDir, { recursive: true, force: true });
    const spec = path.join(root, 'spec.yaml');
    const past = new Date('1985-10-26T08:15:00Z');
    fs.utimesSync(path.join(root, 'top.txt'), past, past);
    const hashes = InputHashes.load(runsDir, spec);
    hashes.hash(root, ['top.txt']);
    hashes.save();
    const file = path.join(runsDir, '.history', fs.readdirSync(path.join(runsDir, '.history'))[0]!);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { files: Record<string, Record<string, unknown>> };
    // As if hashed a minute after its last change (utimes just changed its ctime): not "racily clean".
    const entry = saved.files[path.join(root, 'top.txt')]!;
    entry.hashed_ms = (entry.hashed_ms as number) + 60_000;
    return { runsDir, spec, file, saved };
  }
  const WRONG = '0'.repeat(64);

  it('trusts a remembered hash while size, mtime, ctime and inode are the same', () => {
    const { runsDir, spec, file, saved } = remembered();
    // A doctored hash shows whether the file was read again.
    saved.files[path.join(root, 'top.txt')]!.sha256 = WRONG;
    fs.writeFileSync(file, JSON.stringify(saved));
    expect(InputHashes.load(runsDir, spec).hash(root, ['top.txt'])).toEqual({ 'top.txt': WRONG });
  });

  it('hashes again a file remembered without a ctime (an entry from before ctime was kept), with no error', () => {
    const { runsDir, spec, file, saved } = remembered();
    const entry = saved.files[path.join(root, 'top.txt')]!;
    expect(entry.ctime_ns).toMatch(/^\d+$/);
    delete entry.ctime_ns;
    entry.sha256 = WRONG;
    fs.writeFileSync(file, JSON.stringify(saved));
    const sha = createHash('sha256').update(fs.readFileSync(path.join(root, 'top.txt'))).digest('hex');
    expect(InputHashes.load(runsDir, spec).hash(root, ['top.txt'])).toEqual({ 'top.txt': sha });
  });
});
