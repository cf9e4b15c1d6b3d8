import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { OrchestratorError } from '../errors.js';
import { killGraceMs } from './process-groups.js';
import type { ProcessLauncher } from './types.js';
import type { ProcessOutcome, ProcessRequest, RunningProcess } from './step-process.js';

/** Messages to the launcher process, one JSON object per line. */
export type LauncherRequest =
  /** `workDir`: removed if the orchestrator dies; default: the first step's scratch folder. */
  | { t: 'init'; env: Record<string, string | undefined>; sweepId: string; workDir?: string }
  | { t: 'run'; id: number; req: ProcessRequest }
  | { t: 'cancel'; id: number }
  | { t: 'kill-all' }
  /** Answer `settled` once no group is owed a SIGKILL. */
  | { t: 'settle' }
  /** The job is over: the pipe closing after this is a normal end, not the orchestrator's death. */
  | { t: 'end' };
/** Messages from it. */
export type LauncherReply = { t: 'done'; id: number; outcome: ProcessOutcome } | { t: 'error'; id: number; message: string } | { t: 'settled' };

/**
 * The launcher is kept lean, because the kernel copies the page tables of the process that forks: a
 * 1 MB young generation and one V8 helper thread (not one per core) are plenty for passing messages
 * (measured: a fan of 1,000 steps 1.48x -> 1.35x the Node yardstick).
 */
const LAUNCHER_NODE_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'];

/** How long the launcher may take to exit beyond the kill grace it may have to wait out. */
const LAUNCHER_EXIT_MS = 5000;

/** Its own environment: ours without NODE_EXTRA_CA_CERTS (it makes no TLS connection; loading them costs ~37 ms of start-up here). Steps get the job's environment from the init message. */
function launcherEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Steps started by a launcher process; if this process dies, the launcher sees its pipe close and stops every step. */
export class ForkedLauncher implements ProcessLauncher {
  readonly sweepId: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (o: ProcessOutcome) => void; reject: (e: Error) => void }>();
  readonly #exited: Promise<void>;
  readonly #settling: (() => void)[] = [];
  #nextId = 0;

  constructor(script: string, baseEnv: Record<string, string | undefined>, sweepId: string, workDir?: string) {
    this.sweepId = sweepId;
    this.#child = spawn(process.execPath, [...LAUNCHER_NODE_FLAGS, script], { stdio: ['pipe', 'pipe', 'inherit'], env: launcherEnv() });
    if (this.#child.stdout == null) {
      // Node makes no pipes only when there are no descriptors for them (see node-spawn.ts).
      this.#child.once('error', () => {});
      throw new OrchestratorError({ code: 'usage', message: 'cannot start the step launcher: out of file descriptors (raise `ulimit -n`)' });
    }
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
      if (m.t === 'settled') {
        for (const resolve of this.#settling.splice(0)) resolve();
        return;
      }
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.t === 'done') p.resolve(m.outcome);
      else p.reject(new Error(m.message));
    });
    this.#send({ t: 'init', env: baseEnv, sweepId: this.sweepId, ...(workDir !== undefined ? { workDir } : {}) });
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
    // The launcher stays up to report each killed step's outcome (it kills them all if this process dies anyway).
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#send({ t: 'kill-all' });
  }

  /** Resolves when the launcher says no group is owed a SIGKILL, or when it is gone. */
  settle(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.resolve();
    const settled = new Promise<void>((resolve) => this.#settling.push(resolve));
    this.#send({ t: 'settle' });
    return Promise.race([settled, this.#exited]);
  }

  /**
   * Ends the launcher: it exits once no group it started is owed a SIGKILL (at most the kill grace, which it reads from the same environment). A
   * launcher that is not gone a while after that is stuck, and is killed: the job does not wait on it.
   */
  async close(): Promise<void> {
    this.#child.stdin!.end(`${JSON.stringify({ t: 'end' } satisfies LauncherRequest)}\n`);
    const stuck = setTimeout(() => this.#child.kill('SIGKILL'), killGraceMs() + LAUNCHER_EXIT_MS);
    await this.#exited;
    clearTimeout(stuck);
  }
}
