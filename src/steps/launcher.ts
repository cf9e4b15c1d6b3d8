import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { getLauncherScript } from './launcher-path.js';
import { killAllGroupsNow, startProcess, type ProcessOutcome, type ProcessRequest, type RunningProcess } from './process.js';

/**
 * Starts the processes of shell steps. Forking a process costs in proportion to the memory of the
 * process that forks, and ours holds the whole job; so large jobs start their steps from a small
 * launcher process of their own (the same code, behind a pipe), small jobs from this process.
 */
export interface ProcessLauncher {
  start(req: ProcessRequest): RunningProcess;
  /** SIGKILL every running step at once (the second Ctrl-C). */
  killAllNow(): void;
  /** Stop the launcher when the job is done. */
  close(): Promise<void>;
}

/**
 * Shell steps from which a job uses the launcher process. Its start-up (about one node start,
 * ~100 ms) is paid back only when many forks each save the difference in memory: measured here,
 * the two are level around a thousand steps of a small spec, and the launcher pulls ahead as the
 * job's memory grows (10,000 steps: 2.4 ms a step instead of 4).
 */
export const FORKED_LAUNCHER_MIN_STEPS = 256;

/** The launcher for a job: `$ORCH_LAUNCHER` (`local` or `process`) decides, else the job's size. */
export function createLauncher(shellSteps: number, baseEnv: Record<string, string | undefined>): ProcessLauncher {
  const launcherScript = getLauncherScript();
  const choice = process.env.ORCH_LAUNCHER;
  if (choice !== undefined && choice !== 'local' && choice !== 'process') throw new Error(`ORCH_LAUNCHER must be "local" or "process", not "${choice}"`);
  const forked = choice === 'process' || (choice === undefined && shellSteps >= FORKED_LAUNCHER_MIN_STEPS && launcherScript !== undefined);
  if (forked && launcherScript === undefined) throw new Error('ORCH_LAUNCHER=process needs the built launcher (run the CLI from dist/)');
  return forked ? new ForkedLauncher(launcherScript!, baseEnv) : new LocalLauncher(baseEnv);
}

/** Steps started from this process. */
export class LocalLauncher implements ProcessLauncher {
  readonly #baseEnv: Record<string, string | undefined>;
  constructor(baseEnv: Record<string, string | undefined>) {
    this.#baseEnv = baseEnv;
  }
  start(req: ProcessRequest): RunningProcess {
    return startProcess(req, this.#baseEnv);
  }
  killAllNow(): void {
    killAllGroupsNow();
  }
  async close(): Promise<void> {}
}

/** Messages to the launcher process, one JSON object per line. */
export type LauncherRequest = { t: 'init'; env: Record<string, string | undefined> } | { t: 'run'; id: number; req: ProcessRequest } | { t: 'cancel'; id: number };
/** Messages from it. */
export type LauncherReply = { t: 'done'; id: number; outcome: ProcessOutcome } | { t: 'error'; id: number; message: string };

/** Steps started by a launcher process; if this process dies, the launcher sees its pipe close and stops every step. */
export class ForkedLauncher implements ProcessLauncher {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (o: ProcessOutcome) => void; reject: (e: Error) => void }>();
  readonly #exited: Promise<void>;
  #nextId = 0;

  constructor(script: string, baseEnv: Record<string, string | undefined>) {
    this.#child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.once('exit', (code, signal) => {
      const why = new Error(`the step launcher stopped (${signal ?? `exit ${code}`})`);
      for (const p of this.#pending.values()) p.reject(why);
      this.#pending.clear();
    });
    this.#child.once('error', (e) => {
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    });
    readline.createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as LauncherReply;
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.t === 'done') p.resolve(m.outcome);
      else p.reject(new Error(m.message));
    });
    this.#send({ t: 'init', env: baseEnv });
  }

  #send(m: LauncherRequest): void {
    this.#child.stdin!.write(`${JSON.stringify(m)}\n`);
  }

  start(req: ProcessRequest): RunningProcess {
    const id = ++this.#nextId;
    const outcome = new Promise<ProcessOutcome>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#send({ t: 'run', id, req });
    return { outcome, cancel: () => this.#pending.has(id) && this.#send({ t: 'cancel', id }) };
  }

  killAllNow(): void {
    // The launcher SIGKILLs every group when its pipe closes; killing it closes the pipe.
    this.#child.kill('SIGTERM');
  }

  async close(): Promise<void> {
    this.#child.stdin!.end();
    await this.#exited;
  }
}
