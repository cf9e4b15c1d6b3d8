import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { killGraceMs } from './process-groups.js';
import { chooseSpawner } from './spawner.js';
import { DescriptorGate, ProcessGroups, startProcess, type ProcessRequest, type RunningProcess } from './step-process.js';
import type { ProcessLauncher } from './types.js';
import { Watchdog } from './watchdog.js';

export type { ProcessLauncher } from './types.js';


/**
 * Shell steps from which a job uses the launcher process. Its start-up (one lean node start, ~35 ms,
 * plus a pipe round trip per step) is paid back when the job is large: its work is then shared by two
 * processes on two cores. Measured with posix_spawn (native/spawn.c), `true` steps at C=2: 1,000 fanned
 * steps run about as fast either way (1.5–2.3 s, as noisy as the machine), 10,000 layered ones in
 * 10.3 s from the launcher against 13.6 s from this process. It also stops a large job's steps when
 * the orchestrator is killed outright (below 256 steps, the watchdog of watchdog.ts does).
 */
export const FORKED_LAUNCHER_MIN_STEPS = 256;

/** `$ORCH_LAUNCHER`: `local` or `process` for every job, or unset (by the job's size); anything else is a usage error. */
export function launcherChoice(env: NodeJS.ProcessEnv = process.env): 'local' | 'process' | undefined {
  const choice = env.ORCH_LAUNCHER;
  if (choice === undefined || choice === 'local' || choice === 'process') return choice;
  throw new OrchestratorError({ code: 'usage', message: `$ORCH_LAUNCHER must be "local" or "process", not "${choice}"` });
}

/** The launcher program the build put beside the bundle that runs this code (dist/launcher.cjs), if any. */
export function builtLauncherScript(): string | undefined {
  const file = typeof __dirname === 'string' ? path.join(__dirname, '..', 'launcher.cjs') : undefined;
  return file !== undefined && fs.existsSync(file) ? file : undefined;
}

/** What decides how a job's steps start. */
export interface LauncherOptions {
  shellSteps: number;
  /** The environment steps start from (the job's, over ours). */
  baseEnv: Record<string, string | undefined>;
  /** Where $ORCH_LAUNCHER is read. */
  env?: NodeJS.ProcessEnv;
  /** The launcher program; default: the built one beside this bundle. */
  launcherScript?: string;
  /**
   * The folder to remove if this process is killed outright (kill -9), with the steps it started: a worker's scratch
   * root. Default: the first step's `.work/` folder (a run folder's scratch, where raw `$ORCH_OUTPUT` files wait).
   */
  workDir?: string;
}

/** The launcher for a job: `$ORCH_LAUNCHER` (`local` or `process`) decides, else the job's size. */
export async function createLauncher(o: LauncherOptions): Promise<ProcessLauncher> {
  const launcherScript = o.launcherScript ?? builtLauncherScript();
  const choice = launcherChoice(o.env);
  const forked = choice === 'process' || (choice === undefined && o.shellSteps >= FORKED_LAUNCHER_MIN_STEPS && launcherScript !== undefined);
  if (forked && launcherScript === undefined) throw new OrchestratorError({ code: 'usage', message: 'ORCH_LAUNCHER=process needs the built launcher (dist/launcher.cjs): run `npm run build`' });
  // What its steps' processes, and only theirs, carry as ORCH_SWEEP_ID (stragglers.ts): random, so that no other
  // launcher on this machine (another job's, a worker's) has it.
  const sweepId = randomBytes(12).toString('hex');
  // The forked launcher's code (and node:readline) is loaded only by jobs that use it.
  if (forked) return new (await import('./forked-launcher.js')).ForkedLauncher(launcherScript!, o.baseEnv, sweepId, o.workDir);
  const graceMs = killGraceMs();
  return new LocalLauncher(o.baseEnv, sweepId, graceMs, o.shellSteps > 0 && process.platform !== 'win32' ? new Watchdog(graceMs, chooseSpawner()) : undefined, o.workDir);
}

/** Steps started from this process, watched by a watchdog (watchdog.ts) that stops them if this process is killed outright. */
export class LocalLauncher implements ProcessLauncher {
  readonly sweepId: string;
  readonly #launching;
  readonly #watchdog: Watchdog | undefined;
  readonly #workDir: string | undefined;
  constructor(baseEnv: Record<string, string | undefined>, sweepId: string, graceMs: number, watchdog?: Watchdog, workDir?: string) {
    this.sweepId = sweepId;
    this.#watchdog = watchdog;
    this.#workDir = workDir;
    this.#launching = { baseEnv, sweepId, groups: new ProcessGroups({ watcher: watchdog, graceMs }), gate: new DescriptorGate() };
  }
  start(req: ProcessRequest): RunningProcess {
    this.#watchdog?.arm(this.sweepId, this.#workDir ?? path.dirname(req.outputFile));
    return startProcess(req, this.#launching);
  }
  killAllNow(): void {
    this.#launching.groups.killAll();
  }
  /** Waits out the grace of any group still owed its SIGKILL (at most the kill grace): this process must not end before it. */
  settle(): Promise<void> {
    return this.#launching.groups.settled();
  }
  async close(): Promise<void> {
    await this.settle();
    await this.#watchdog?.close();
  }
}

