import fs from 'node:fs';
import type { StepError } from '../events/types.js';
import { tryWrite } from '../store/io-fault.js';
import { Redactor } from '../store/redact.js';
import { directCommand } from './direct.js';
import { chooseSpawner } from './spawner.js';
import type { ProcessOutcome, ProcessRequest, RunningProcess, StartedProcess } from './types.js';

/** Grace between SIGTERM and SIGKILL for a step's process group (SPEC §3). */
export const KILL_GRACE_MS = 5000;
/** How much stdout is kept in memory for `.text` and `output: json`; the log always gets everything (SPEC §4). */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

export type { ProcessOutcome, ProcessRequest, RunningProcess } from './types.js';


/** The process groups of the steps a launcher has running, for a second Ctrl-C that must stop them all at once. */
export class ProcessGroups {
  readonly #live = new Set<number>();
  add(pid: number): void {
    this.#live.add(pid);
  }
  delete(pid: number): void {
    this.#live.delete(pid);
  }
  /** SIGKILL every group still running, now. */
  killAll(): void {
    for (const pid of this.#live) killGroup(pid, 'SIGKILL');
  }
}

/** Signal a whole process group; false when it is already gone (which is fine). */
function killGroup(pid: number, sig: NodeJS.Signals): boolean {
  if (!(pid > 0)) return false; // never started: no group (and -0 would be our own)
  // After almost every step the group is gone: the ESRCH error needs no stack trace (it is dropped).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false; // ESRCH: nothing left in the group
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The program and arguments for a step's shell (SPEC §1: bash -e -o pipefail -c, or `shell` with -c). */
function shellCommand(shell: string, script: string): [string, string[]] {
  if (shell === 'bash') return ['bash', ['-e', '-o', 'pipefail', '-c', script]];
  return [shell, ['-c', script]];
}

/**
 * Start one attempt: its own process group (so the whole tree can be killed), stdout and stderr through
 * us into the log in the order they arrive (masked when there are secrets), stdout also kept for `.text`,
 * timeouts as SIGTERM then SIGKILL. Nothing the script leaves running outlives it.
 *
 * The log is created at the first byte: a step that prints nothing has no log. Creating a file is the
 * dearest thing a step does to the disk (on ext4 without a journal, each creation scans past every inode
 * freed in the last 30 s), and most steps of a large DAG print nothing. A later attempt always opens the
 * log, to write its header.
 */
export function startProcess(req: ProcessRequest, o: { baseEnv: Record<string, string | undefined>; groups: ProcessGroups }): RunningProcess {
  const { baseEnv, groups } = o;
  const redactor = new Redactor(req.secrets);
  const env = { ...baseEnv, ...req.env };
  let reason: ProcessOutcome['reason'];
  // Replaced below: the promise's executor runs before startProcess returns.
  let terminate: (why: NonNullable<ProcessOutcome['reason']>) => void = () => {};
  const outcome = new Promise<ProcessOutcome>((resolve) => {
    let logFd: number | undefined;
    // The first write that fails (a full disk, a deleted run folder) ends the attempt: a step whose output
    // cannot be recorded fails with that error (SPEC §4), rather than run on unrecorded or crash the job.
    let ioError: StepError | undefined;
    const log = (data: Uint8Array | string) => {
      if (ioError) return;
      ioError = tryWrite(req.logPath, () => {
        if (logFd === undefined) logFd = fs.openSync(req.logPath, req.attempt === 1 ? 'w' : 'a');
        if (typeof data === 'string') fs.writeSync(logFd, data);
        else fs.writeSync(logFd, data);
      });
      if (ioError) terminate('io');
    };
    if (req.attempt > 1) log(`\n--- attempt ${req.attempt} ---\n`);
    const direct = directCommand(req.shell, req.script, env, req.cwd);
    let [cmd, args] = direct ?? shellCommand(req.shell, req.script);
    const chunks: Buffer[] = [];
    let captured = 0;
    let truncated = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: string | undefined;
    const timers: NodeJS.Timeout[] = [];
    let killTimer: NodeJS.Timeout | undefined;

    let pid: number | undefined;
    let open = 3; // the process, its stdout and its stderr: the outcome is known when all three have ended
    const finish = () => {
      if (--open > 0) return;
      if (pid !== undefined) groups.delete(pid);
      for (const t of timers) clearTimeout(t);
      if (killTimer) clearTimeout(killTimer);
      if (logFd !== undefined) ioError ??= tryWrite(req.logPath, () => fs.closeSync(logFd!));
      let outputText: string | undefined;
      ioError ??= tryWrite(req.outputFile, () => (outputText = readAndRemove(req.outputFile)));
      resolve({
        exitCode: spawnError ? null : (exit?.code ?? null),
        signal: exit?.signal ?? null,
        stdout: Buffer.concat(chunks).toString('utf8'),
        truncated,
        reason,
        spawnError,
        outputText,
        ...(ioError ? { ioError } : {}),
      });
    };

    const describeSpawnError = (e: NodeJS.ErrnoException) =>
      e.code === 'ENOENT' && !fs.existsSync(req.cwd) ? `working directory ${req.cwd} does not exist` : `cannot start ${cmd}: ${e.message}`;
    const onExit = (code: number | null, signal: NodeJS.Signals | null, error?: NodeJS.ErrnoException) => {
      if (error) spawnError = describeSpawnError(error);
      exit = { code, signal };
      // Whatever the script left running in its group goes with it (nothing outlives its step).
      if (killGroup(pid!, 'SIGTERM')) killTimer ??= setTimeout(() => killGroup(pid!, 'SIGKILL'), KILL_GRACE_MS);
      finish();
    };
    const spawner = chooseSpawner();
    let child: StartedProcess;
    try {
      try {
        child = spawner.spawn({ file: cmd, args, cwd: req.cwd, env, onExit });
      } catch (e) {
        // An executable file without `#!` (ENOEXEC): the shell runs such a file as a script of its own,
        // as it would have without our shortcut (src/process/direct.ts).
        if (!direct || (e as NodeJS.ErrnoException).code !== 'ENOEXEC') throw e;
        [cmd, args] = shellCommand(req.shell, req.script);
        child = spawner.spawn({ file: cmd, args, cwd: req.cwd, env, onExit });
      }
    } catch (e) {
      spawnError = describeSpawnError(e as NodeJS.ErrnoException);
      open = 1;
      finish();
      return;
    }
    pid = child.pid;
    if (pid > 0) groups.add(pid);

    terminate = (why) => {
      if (reason || exit) return; // the first reason wins
      reason = why;
      killGroup(pid!, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(pid!, 'SIGKILL'), KILL_GRACE_MS);
    };

    if (req.timeoutMs !== undefined) timers.push(setTimeout(() => terminate('timeout'), req.timeoutMs));
    const idle = req.idleTimeoutMs !== undefined ? setTimeout(() => terminate('idle-timeout'), req.idleTimeoutMs) : undefined;
    if (idle) timers.push(idle);

    // Output that passes through us: masked when there are secrets. Each stream keeps its own carry so
    // a secret split across two chunks is still caught.
    const sink = (capture: boolean) => {
      let carry = '';
      const keep = Math.max(0, redactor.longest - 1);
      return {
        data: (chunk: Buffer) => {
          idle?.refresh();
          if (capture) {
            // Kept up to the limit exactly, so the text is the first 16 MiB whatever the pipe's chunk sizes.
            if (captured < MAX_CAPTURE_BYTES) chunks.push(chunk.subarray(0, MAX_CAPTURE_BYTES - captured));
            if (captured + chunk.length > MAX_CAPTURE_BYTES) truncated = true;
            captured += chunk.length;
          }
          if (!redactor.isActive) {
            log(chunk);
            return;
          }
          const safe = redactor.redact(carry + chunk.toString('utf8'));
          const cut = Math.max(0, safe.length - keep); // hold back a tail that could start a secret
          if (cut > 0) log(safe.slice(0, cut));
          carry = safe.slice(cut);
        },
        end: () => {
          if (carry) log(redactor.redact(carry));
          carry = '';
        },
      };
    };
    const out = sink(true);
    child.stdout.on('data', out.data).on('end', out.end).on('close', finish);
    const err = sink(false);
    child.stderr.on('data', err.data).on('end', err.end).on('close', finish);
  });
  return { outcome, cancel: () => terminate('cancelled') };
}

/** What the step wrote to $ORCH_OUTPUT (most write nothing: no file), then the file is removed. */
function readAndRemove(file: string): string | undefined {
  if (!fs.statSync(file, { throwIfNoEntry: false })) return undefined;
  const text = fs.readFileSync(file, 'utf8');
  fs.unlinkSync(file);
  return text;
}
