// Folders made from paths a user gives, or that derive from one (the runs and cache folders, the folder of --junit
// and --summary, files restored into a workspace, …). Node's fs.mkdirSync(p, { recursive: true }) never returns when
// the file system refuses p with ENOENT although its parent exists (/proc/nope: mkdir says ENOENT, mkdir of /proc
// says EEXIST, and it tries p again, forever, deaf to Ctrl-C); here each missing folder is made once, from the
// deepest one that exists down, and what stands in the way is said.
import fs from 'node:fs';
import path from 'node:path';

/** A folder that cannot be made; `path` is the one at fault: a file where a folder must be, or one its file system refuses. */
export class FolderError extends Error {
  constructor(message: string, readonly code: string, readonly path: string) {
    super(message);
  }
}

/**
 * Make `dir` and any folders missing above it. The system calls of a recursive mkdir, no more: one mkdir for a
 * folder whose parent exists; mkdir and stat for one that exists. A file in the way, or a folder its file system
 * will not make although its parent exists, is a FolderError; other failures (EACCES, EROFS, ENOSPC) are mkdir's.
 */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  // Up, to the deepest folder that exists (or that this made).
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const e = mkdirError(at);
    if (e === undefined) break;
    if (e.code === 'EEXIST') {
      mustBeFolder(at);
      break;
    }
    if (e.code === 'ENOTDIR') {
      const file = fileAbove(at);
      throw file === undefined ? e : notAFolder(file);
    }
    if (e.code !== 'ENOENT' || path.dirname(at) === at) throw e;
    missing.push(at);
  }
  // Down: each missing folder once, in a parent that now exists.
  for (const at of missing.reverse()) {
    const e = mkdirError(at);
    if (e === undefined) continue;
    if (e.code === 'EEXIST') mustBeFolder(at); // made meanwhile by another process
    else if (e.code === 'ENOENT' && isFolder(path.dirname(at))) {
      throw new FolderError(`${path.dirname(at)} does not let folders be made in it (mkdir ${at}: ENOENT)`, 'ENOENT', at);
    } else throw e;
  }
}

/** What is wrong with `at` as a folder, which exists but is not one (a file, a link to nothing, a socket). */
export function notAFolderReason(at: string): string {
  let file = false;
  try {
    file = fs.statSync(at, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    // a link to nothing, or one whose parent went: not a folder all the same
  }
  return file ? `${at} is a file, not a folder` : `${at} is not a folder`;
}

function mkdirError(at: string): NodeJS.ErrnoException | undefined {
  try {
    fs.mkdirSync(at);
    return undefined;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

/** Whether `at` is a folder (or a link to one); false for anything else, or nothing. */
export function isFolder(at: string): boolean {
  try {
    return fs.statSync(at, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

function mustBeFolder(at: string): void {
  if (!isFolder(at)) throw notAFolder(at);
}

function notAFolder(at: string): FolderError {
  return new FolderError(notAFolderReason(at), 'ENOTDIR', at);
}

/** The nearest of `at`'s parents that exists and is not a folder (mkdir said ENOTDIR), if it is still there. */
function fileAbove(at: string): string | undefined {
  for (let p = path.dirname(at); p !== path.dirname(p); p = path.dirname(p)) {
    if (fs.existsSync(p) && !isFolder(p)) return p;
  }
  return undefined;
}
