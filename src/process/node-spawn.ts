// Start a step's process with Node's own child_process.spawn: what every installation can do, where
// the posix_spawn helper (native-spawn.ts) was not built or does not load. `detached: true` gives the
// child a session of its own (setsid), so its whole tree can be signalled as a group; libuv resets
// every signal to its default and unblocks them all in the child, as the helper does.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { onPath } from './direct.js';
import type { SpawnRequest, StartedProcess } from './types.js';

/**
 * Start `file` with `args` in `cwd`, stdin from /dev/null (or a pipe: `stdin: 'pipe'`), stdout and stderr on pipes. A program that is
 * not on the child's PATH throws ENOENT at once, as with the helper; other failures to start (a missing
 * working directory, EACCES) come a moment later, through `onExit`'s error.
 */
export function spawnWithNode({ file, args, cwd, env, onExit, stdin: stdinMode, background }: SpawnRequest): StartedProcess {
  // Looked up on the child's PATH, as the helper does (libuv would look on ours).
  const program = file.includes('/') ? file : onPath(file, env.PATH ?? '/usr/bin:/bin');
  if (program === null) {
    throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT', errno: -os.constants.errno.ENOENT, syscall: `spawn ${file}`, path: file });
  }
  const child = spawn(program, args, { argv0: file, cwd, env, detached: true, stdio: [stdinMode === 'pipe' ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (child.stdout == null || child.stderr == null || (stdinMode === 'pipe' && child.stdin == null)) {
    // Node gives up before making the pipes only when there are no descriptors for them (EMFILE or
    // ENFILE, reported a tick later as an 'error' that is dropped here): said now, as the helper does,
    // so that the start can wait for descriptors.
    child.once('error', () => {});
    throw Object.assign(new Error(`spawn ${file} EMFILE`), { code: 'EMFILE', syscall: `spawn ${file}`, path: file });
  }
  let ended = false;
  child.once('exit', (code, signal) => {
    ended = true;
    onExit(code, signal);
  });
  child.once('error', (e: NodeJS.ErrnoException) => {
    // Only a failure to start ends it here; an error after exit (none is expected) changes nothing.
    if (ended) return;
    ended = true;
    onExit(null, null, e);
  });
  if (background) {
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as { unref?: () => void } | null)?.unref?.();
  }
  return { pid: child.pid ?? 0, stdout: child.stdout!, stderr: child.stderr!, ...(child.stdin ? { stdin: child.stdin } : {}) };
}
