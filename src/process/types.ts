// The process room's interfaces: how a step's process is started (a Spawner) and how a job's steps are
// launched (a ProcessLauncher). The strategies behind them import these; these import no strategy.
import type { Readable, Writable } from 'node:stream';
import type { StepError } from '../events/types.js';

/** A started process: its pid, and the reading ends of its stdout and stderr (and the writing end of its stdin, when asked for). */
export interface StartedProcess {
  pid: number;
  stdout: Readable;
  stderr: Readable;
  stdin?: Writable;
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
  /** stdin on a pipe the caller writes to (default: /dev/null). */
  stdin?: 'pipe';
  /** Neither the process nor its pipes keep Node running (the watchdog): `onExit` still comes if Node is still there. */
  background?: boolean;
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

/**
 * Starts the processes of shell steps. Forking a process costs in proportion to the memory of the
 * process that forks, and ours holds the whole job; so large jobs start their steps from a small
 * launcher process of their own (the same code, behind a pipe), small jobs from this process.
 */
export interface ProcessLauncher {
  /** What every process its steps start carries as ORCH_SWEEP_ID: how what they left is found (stragglers.ts), and nothing else. */
  readonly sweepId: string;
  start(req: ProcessRequest): RunningProcess;
  /** SIGKILL every running step at once (the second Ctrl-C); their outcomes still arrive, as cancelled. */
  killAllNow(): void;
  /** Resolves when no step's process group is owed a SIGKILL any more (at most the 5 s grace away). */
  settle(): Promise<void>;
  /** Stop the launcher when the job is done: from then on nothing stops the steps' leftovers if this process dies, so call it last. */
  close(): Promise<void>;
}

/** One attempt of a shell step, as plain data: it may cross to the launcher process. */
export interface ProcessRequest {
  shell: string;
  script: string;
  cwd: string;
  /** Variables over the launcher's base environment. */
  env: Record<string, string>;
  logPath: string;
  /** First attempt: a new log; later attempts append under a header. */
  attempt: number;
  /** $ORCH_OUTPUT: read and removed when the process ends. */
  outputFile: string;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  /** Values masked as *** in the log. */
  secrets: string[];
}

/** How an attempt's process ended. */
export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout went past MAX_CAPTURE_BYTES: `stdout` holds its first MAX_CAPTURE_BYTES. */
  truncated: boolean;
  reason?: 'timeout' | 'idle-timeout' | 'cancelled' | 'io';
  spawnError?: string;
  /** The log or $ORCH_OUTPUT could not be written or read (disk-full, io): the attempt was stopped. */
  ioError?: StepError;
  /** What the step wrote to $ORCH_OUTPUT, if anything. */
  outputText?: string;
}

/** A running attempt: its outcome, and a way to stop it. */
export interface RunningProcess {
  outcome: Promise<ProcessOutcome>;
  cancel(): void;
}
