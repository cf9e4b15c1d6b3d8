// Which way this installation starts a step's process: the posix_spawn helper (native/spawn.c, built
// by `npm run build` where a C compiler is at hand) when it loads, else Node's own child_process.spawn.
// Both give the child the same world: its own session, stdin from /dev/null, stdout and stderr on pipes,
// every signal at its default, the step's env and cwd. The helper is only faster (issue 7); `doctor`
// says which one is in use and why. `$ORCH_SPAWNER` (`native` or `node`) chooses one by hand.
import { OrchestratorError } from '../errors.js';
import { loadHelper } from './native-spawn.js';
import { spawnWithNode } from './node-spawn.js';
import type { Spawner } from './types.js';

export type { ExitListener, SpawnRequest, Spawner, SpawnerKind, StartedProcess } from './types.js';

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
