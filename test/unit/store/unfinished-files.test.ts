import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { filesOfUnfinishedJob } from '../../../src/store/runs.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-unfinished-'));
  for (const [rel, text] of Object.entries({
    'manifest.json': '{}',
    'events.jsonl': '{}\n',
    'logs/a.log': 'a says hi\n',
    'logs/b.log': 'b says hi\n',
    'outputs/a.json': '{"status":"succeeded"}\n',
    '.work/b': 'v=half-written\n',
    '.work/reserve': '',
  })) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('filesOfUnfinishedJob (what `show` lists for a job that has not finished)', () => {
  it('hashes the run folder but its manifest, journal and scratch folder .work/', () => {
    expect(filesOfUnfinishedJob(dir)).toEqual([
      { path: 'logs/a.log', sha256: createHash('sha256').update('a says hi\n').digest('hex'), size_bytes: 10 },
      { path: 'logs/b.log', sha256: createHash('sha256').update('b says hi\n').digest('hex'), size_bytes: 10 },
      { path: 'outputs/a.json', sha256: createHash('sha256').update('{"status":"succeeded"}\n').digest('hex'), size_bytes: 23 },
    ]);
  });

  it('leaves out a file removed between the listing and its hashing, as a live job or the cleanup after a kill -9 does', () => {
    const open = fs.openSync;
    // Test double of the race: logs/b.log is removed just before it is opened.
    vi.spyOn(fs, 'openSync').mockImplementation((file, ...rest) => {
      if (String(file).endsWith(path.join('logs', 'b.log'))) fs.rmSync(String(file));
      return open(file, ...(rest as [fs.OpenMode]));
    });
    expect(filesOfUnfinishedJob(dir).map((f) => f.path)).toEqual(['logs/a.log', 'outputs/a.json']);
  });

  it('still fails on any other error than a file that went', () => {
    const open = fs.openSync;
    vi.spyOn(fs, 'openSync').mockImplementation((file, ...rest) => {
      if (String(file).endsWith(path.join('logs', 'b.log'))) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      return open(file, ...(rest as [fs.OpenMode]));
    });
    expect(() => filesOfUnfinishedJob(dir)).toThrow(/EIO/);
  });
});
