// Which way this installation starts a step's process: the posix_spawn helper (native/spawn.c, built
// by `npm run build` where a C compiler is at hand) when it loads, else Node's own child_process.spawn.
// Both give the child the same world: its own session, stdin from /dev/null, stdout and stderr on pipes,
// every signal at its default, the step's env and cwd. The helper is only faster (issue 7); `doctor`
// says which one is in use and why. `$ORCH_SPAWNER` (`native` or `node`) chooses one by hand.
import type { Readable } from 'node:stream';
import { OrchestratorError } from '../errors.js';
import { loadHelper } from './native-spawn.js';
import { spawnWithNode } from './node-spawn.js';

/** A started process: its pid, and the reading ends of its stdout and stderr. */
export interface StartedProcess {
  pid: number;
  stdout: Readable;
  stderr: Readable;
}

/**
 * Called once when a process has ended: its exit code, or the signal that ended it; or, when it could
 * not start after all (Node reports some of those after the call), the error, with code and signal null.
 */
export type ExitListener = (code: number | null, signal: NodeJS.Signals | null, error?: NodeJS.ErrnoException) => void;

/** What to start: `file` is a path, or a name looked up on the child's PATH. */
export interface SpawnRequest {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  onExit: ExitListener;
}

/** The two ways, by the names `doctor` prints. */
export type SpawnerKind = 'posix_spawn helper' | 'node child_process';

/** A way to start step processes; throws an error with `code` (ENOENT, EACCES …) when one cannot start. */
export interface Spawner {
  kind: SpawnerKind;
  /** Why this one, when it is not the helper. */
  reason?: string;
  spawn(req: SpawnRequest): StartedProcess;
}

/** `$ORCH_SPAWNER`'s values. */
const CHOICES = ['native', 'node'] as const;

let chosen: { key: string; spawner: Spawner } | undefined;

/**
 * The spawner for this process, chosen once (per `$ORCH_SPAWNER` value): the helper when it loads, else
 * Node's spawn with the reason. `ORCH_SPAWNER=native` when the helper cannot load is a usage error.
 */
export function chooseSpawner(env: NodeJS.ProcessEnv = process.env): Spawner {
  const choice = env.ORCH_SPAWNER?.trim() || undefined;
  const key = choice ?? '';
  if (chosen?.key === key) return chosen.spawner;
  if (choice !== undefined && !(CHOICES as readonly string[]).includes(choice)) {
    throw new OrchestratorError([{ code: 'usage', message: `$ORCH_SPAWNER must be "native" or "node", not "${choice}"` }]);
  }
  let spawner: Spawner;
  if (choice === 'node') spawner = nodeSpawner('$ORCH_SPAWNER=node');
  else {
    const native = loadHelper();
    if ('spawn' in native) spawner = native;
    else if (choice === 'native') throw new OrchestratorError([{ code: 'usage', message: `$ORCH_SPAWNER=native, but ${native.reason}` }]);
    else spawner = nodeSpawner(native.reason);
  }
  chosen = { key, spawner };
  return spawner;
}

function nodeSpawner(reason: string): Spawner {
  return { kind: 'node child_process', reason, spawn: spawnWithNode };
}
