// Disk faults (a full disk, a runs folder deleted mid-run, an I/O error) as what a user reads: a code and
// one line naming the path, instead of a Node exception with a stack.
import type { StepError } from '../events/types.js';
import { FolderError } from '../util/make-folder.js';

/** Whether something thrown is a file-system error (it carries an errno code such as ENOSPC), not a bug. */
export function isIoError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code!);
}

/** A file-system error on `file` as a step or job error: `disk-full` for ENOSPC and EDQUOT, else `io`. */
export function ioFault(e: NodeJS.ErrnoException, file: string, doing: 'write' | 'read' = 'write'): StepError {
  const errno = e.code ?? 'EIO';
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return { code: 'disk-full', message: `disk full: cannot ${doing} ${file} (${errno})` };
  // A file where a folder must be, or a folder its file system refuses: the error says which, and why.
  if (e instanceof FolderError) return { code: 'io', message: `cannot ${doing} ${file}: ${e.message}` };
  const why: Record<string, string> = {
    ENOENT: 'its folder is gone',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'not permitted',
    EIO: 'input/output error',
    EMFILE: 'too many open files',
    ENFILE: 'too many open files in the system',
  };
  return { code: 'io', message: `cannot ${doing} ${file}: ${why[errno] ?? (e.message.split(',')[0] ?? errno)} (${errno})` };
}

/**
 * Run `write`; a file-system error becomes the returned StepError (anything else is a bug and is thrown). It
 * names the file the failing system call named, if any, else `file`; with `exact`, always `file` (a temp file
 * beside it means nothing to a user).
 */
export function tryWrite(file: string, write: () => void, o: { exact?: boolean } = {}): StepError | undefined {
  try {
    write();
    return undefined;
  } catch (e) {
    if (!isIoError(e)) throw e;
    return ioFault(e, o.exact ? file : (e.path ?? file));
  }
}
