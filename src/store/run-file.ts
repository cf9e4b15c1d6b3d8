// A run folder may come from elsewhere (a CI artifact unzipped into runs/): a file of it is read only where it is,
// never through a symbolic link, which could lead to any file of this machine or to another file of the folder.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Why `file` (a log, an outputs file) must not be read: it or its folder is a symbolic link, or it is not a regular
 * file (`it is a folder, not a file`); undefined when it is a file there, or is missing.
 */
export function runFileProblem(file: string): string | undefined {
  let st: fs.Stats | undefined;
  let folder: fs.Stats | undefined;
  try {
    st = fs.lstatSync(file, { throwIfNoEntry: false });
    folder = fs.lstatSync(path.dirname(file), { throwIfNoEntry: false });
  } catch {
    return undefined; // unreadable: the read says why
  }
  if (folder?.isSymbolicLink()) return `its folder ${path.dirname(file)} is a symbolic link (a run folder's files are never read through one)`;
  if (st === undefined) return undefined;
  if (st.isSymbolicLink()) return 'it is a symbolic link, not a file (a run folder\'s files are never read through one)';
  if (!st.isFile()) return `it is ${st.isDirectory() ? 'a folder' : 'not a regular file'}, not a file`;
  return undefined;
}
