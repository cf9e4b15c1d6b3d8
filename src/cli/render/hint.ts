import path from 'node:path';

/** Characters a POSIX shell reads literally outside quotes. */
const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

/** A word as a POSIX shell reads it back: as is when safe, else in single quotes (a `'` inside as `'\''`). */
export function quoteForShell(word: string): string {
  return word !== '' && SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `orchestrator show <id> [--runs-dir <dir>]` for a job in `runDir`, ready to paste in this folder: the runs
 * folder is named whenever it is not the default `./runs` (given by --runs-dir or $ORCH_RUNS_DIR), since a
 * later shell may not have the same environment.
 */
export function showCommandFor(jobId: string, runDir: string, cwd = process.cwd()): string {
  // A relative run folder is read from cwd: `runs/<id>` is the default folder, not another one.
  const runsDir = path.dirname(path.resolve(cwd, runDir));
  if (runsDir === path.resolve(cwd, 'runs')) return `orchestrator show ${jobId}`;
  const rel = path.relative(cwd, runsDir);
  const shown = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : runsDir;
  return `orchestrator show ${jobId} --runs-dir ${quoteForShell(shown)}`;
}
