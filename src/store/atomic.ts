import fs from 'node:fs';
import path from 'node:path';
import { makeFolder } from '../util/make-folder.js';

/**
 * Replace a file atomically and durably: temp file beside it, fsync, rename. For the final manifest.json.
 * (write-file-atomic did the same, but loads worker_threads and signal-exit on require: ~3 ms of every
 * command's start-up, measured, for the five system calls below.)
 */
export function writeDurable(file: string, data: string): void {
  writeReplacing(file, data, true);
}

/** Replace a file atomically (temp file + rename, no fsync): a crash leaves the old or the new file, never half of one. */
export function writeAtomic(file: string, data: string): void {
  writeReplacing(file, data, false);
}

function writeReplacing(file: string, data: string, durable: boolean): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Make `file` a symbolic link to `target`, in place of whatever file or link is there (its folder made if need be). */
export function writeLink(file: string, target: string): void {
  makeFolder(path.dirname(file));
  fs.rmSync(file, { force: true });
  fs.symlinkSync(target, file);
}
