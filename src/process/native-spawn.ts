// Start a step's process through native/spawn.c (posix_spawn) instead of child_process.spawn, whose
// fork() costs ~1 ms of the event loop per step and more as the process grows (issue 7; the C file's
// header says why). The process ends are watched as libuv watches its own: on SIGCHLD, each process
// of ours is asked with waitpid(pid, WNOHANG) — never waitpid(-1), which would take libuv's children.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { onPath } from './direct.js';
import type { ExitListener, SpawnRequest, Spawner, StartedProcess } from './types.js';

interface Binding {
  spawn(file: string, argv: string[], envp: string[], cwd: string, stdinPipe?: boolean): number[];
  reap(pid: number): number[] | null;
}

let binding: Binding | undefined;
const waiting = new Map<number, ExitListener>();
/** Those of `waiting` that keep Node running (not `background`). */
const holding = new Set<number>();
/** SIGCHLD's listener does not keep Node running: this does, while a process of ours has not been reaped. */
let keepAlive: NodeJS.Timeout | undefined;

const signalNames = new Map<number, NodeJS.Signals>(Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));
const errnoNames = new Map<number, string>(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));

/**
 * Start `file` with `args` in `cwd`, in a session of its own, stdin from /dev/null (or a pipe), stdout and stderr on
 * pipes; `onExit` is called once, when it has ended. Throws an error with `code` (ENOENT, EACCES …) when
 * it cannot start, like child_process.spawn's.
 */
function spawnNative({ file, args, cwd, env, onExit, stdin: stdinMode, background }: SpawnRequest): StartedProcess {
  const native = binding!;
  const envp: string[] = [];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) envp.push(`${k}=${v}`);
  for (const s of [file, cwd, ...args, ...envp]) {
    if (s.includes('\0')) throw Object.assign(new Error(`cannot pass a string with a null byte to ${file}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  // Looked up here, on the child's PATH, as execvp would (posix_spawn itself takes a path).
  const program = file.includes('/') ? file : onPath(file, env.PATH ?? '/usr/bin:/bin');
  const started = program === null ? [-os.constants.errno.ENOENT] : native.spawn(program, [file, ...args], envp, cwd, stdinMode === 'pipe');
  if (started.length === 1) {
    const code = errnoNames.get(-started[0]!) ?? `errno ${-started[0]!}`;
    throw Object.assign(new Error(`spawn ${file} ${code}`), { code, errno: started[0], syscall: `spawn ${file}`, path: file });
  }
  const [pid, out, err, inFd] = started as [number, number, number, number?];
  if (!background) {
    if (holding.size === 0) keepAlive = setInterval(() => {}, 2 ** 30);
    holding.add(pid);
  }
  waiting.set(pid, onExit);
  const stdout = new net.Socket({ fd: out, readable: true, writable: false });
  const stderr = new net.Socket({ fd: err, readable: true, writable: false });
  const stdin = inFd === undefined ? undefined : new net.Socket({ fd: inFd, readable: false, writable: true });
  if (background) for (const s of [stdout, stderr, stdin]) s?.unref();
  // Both pipes closed: the process has most likely ended, often before its SIGCHLD is read.
  let open = 2;
  const closed = () => --open === 0 && reapEnded();
  stdout.once('close', closed);
  stderr.once('close', closed);
  return { pid, stdout, stderr, ...(stdin ? { stdin } : {}) };
}

/** A SIGCHLD stands for one or more ended children (signals merge): ask each of ours. */
function reapEnded(): void {
  for (const [pid, onExit] of waiting) {
    const ended = binding!.reap(pid);
    if (ended === null) continue;
    waiting.delete(pid);
    holding.delete(pid);
    if (ended.length === 1) onExit(null, null); // not ours to reap after all (ECHILD): cannot happen
    else onExit(ended[1] ? null : ended[0]!, ended[1] ? (signalNames.get(ended[1]) ?? null) : null);
  }
  if (holding.size === 0 && keepAlive) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

/** The helper's file name for this platform: a helper built elsewhere is never loaded. */
export function helperName(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  return `spawn-${platform}-${arch}${platform === 'linux' ? `-${isMusl() ? 'musl' : 'glibc'}` : ''}.node`;
}

function isMusl(): boolean {
  try {
    return fs.readdirSync('/lib').some((f) => f.startsWith('ld-musl-'));
  } catch {
    return false;
  }
}

/**
 * The helper the build put beside the bundles (dist/native/, seen from dist/ or dist/cli/), loaded with
 * its SIGCHLD listener; or why it cannot be used here.
 */
export function loadHelper(): Spawner | { reason: string } {
  const name = helperName();
  const candidates = [path.join(__dirname, 'native', name), path.join(__dirname, '..', 'native', name)];
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) return { reason: `this installation has no posix_spawn helper for ${name.slice(6, -5)} (it is built by \`npm run build\` where a C compiler, make and python3 are at hand)` };
  const module = { exports: {} as Binding };
  try {
    process.dlopen(module, file);
  } catch (e) {
    return { reason: `the posix_spawn helper ${file} does not load: ${(e as Error).message.split('\n')[0]}` };
  }
  binding = module.exports;
  // Listening before the first process starts: a SIGCHLD that came before Node handled it would be lost.
  process.on('SIGCHLD', reapEnded);
  return { kind: 'posix_spawn helper', spawn: spawnNative };
}
