import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderError, makeFolder } from '../../../src/util/make-folder.js';

let dir: string;
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-make-folder-')));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const thrown = (f: () => void): FolderError => {
  try {
    f();
  } catch (e) {
    return e as FolderError;
  }
  throw new Error('did not throw');
};

describe('makeFolder', () => {
  it('makes a folder and those missing above it, and lets one that exists (or a link to one) be', () => {
    makeFolder(path.join(dir, 'a/b/c'));
    expect(fs.statSync(path.join(dir, 'a/b/c')).isDirectory()).toBe(true);
    makeFolder(path.join(dir, 'a/b/c'));
    makeFolder(path.join(dir, 'a'));
    fs.symlinkSync(path.join(dir, 'a'), path.join(dir, 'link'));
    makeFolder(path.join(dir, 'link'));
    makeFolder(path.join(dir, 'link/b/d'));
    expect(fs.statSync(path.join(dir, 'a/b/d')).isDirectory()).toBe(true);
  });

  it('a file in its place, or above it, is a file, not a folder, named', () => {
    fs.writeFileSync(path.join(dir, 'f'), '');
    for (const target of ['f', 'f/x', 'f/x/y']) {
      const e = thrown(() => makeFolder(path.join(dir, target)));
      expect(e).toBeInstanceOf(FolderError);
      expect(e).toMatchObject({ code: 'ENOTDIR', path: path.join(dir, 'f'), message: `${path.join(dir, 'f')} is a file, not a folder` });
    }
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    expect(thrown(() => makeFolder(path.join(dir, 'dangling/x'))).message).toBe(`${path.join(dir, 'dangling')} is not a folder`);
  });

  it.runIf(process.platform === 'linux')('a folder the file system refuses (/proc) is an error at once, never a loop', () => {
    for (const target of ['/proc/orch-nope', '/proc/orch-nope/deeper/still']) {
      const e = thrown(() => makeFolder(target));
      expect(e).toBeInstanceOf(FolderError);
      expect(e).toMatchObject({ code: 'ENOENT', path: '/proc/orch-nope', message: '/proc does not let folders be made in it (mkdir /proc/orch-nope: ENOENT)' });
    }
  });
});
