import fs from 'node:fs';
import type { StepError } from '../events/types.js';
import { tryWrite } from '../store/io-fault.js';
import { Redactor } from '../store/redact.js';
import { DescriptorGate, isOutOfDescriptors } from './descriptor-gate.js';
import { asBashLeavesIt, directCommand } from './direct.js';
import { ProcessGroups } from './process-groups.js';
import { chooseSpawner } from './spawner.js';
import { StepLog, logWriter } from './step-log.js';
import { SWEEP_ID_VAR } from './stragglers.js';
import type { ProcessOutcome, ProcessRequest, RunningProcess, StartedProcess } from './types.js';

export { ProcessGroups } from './process-groups.js';
export { DescriptorGate } from './descriptor-gate.js';
/** How much stdout is kept in memory for `.text` and `output: json`; the log always gets everything (SPEC §4). */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;
/**
 * Once a step's process group is gone (or SIGKILLed), how long what is still in its pipes may take to
 * arrive. A pipe still open after that is held by a process outside the group (one that called setsid):
 * it is closed, and the step moves on.
 */
export const PIPE_DRAIN_MS = 500;

export type { ProcessOutcome, ProcessRequest, RunningProcess } from './types.js';

/** What a launcher shares between the steps it starts. */
export interface Launching {
  /** The environment steps start from. */
  baseEnv: Record<string, string | undefined>;
  /** The launcher's ORCH_SWEEP_ID, set over the step's own environment. */
  sweepId: string;
  groups: ProcessGroups;
  gate: DescriptorGate;
}

/** Said in a step's log when its pipes had to be closed under a process that escaped its group. */
const HELD_PIPES_NOTE =
  '\n[orchestrator] the step had ended, but its stdout/stderr were still held open by a process outside its process group ' +
  '(started with setsid?); they were closed and the step moved on. That process was not stopped then (on Linux the job stops it when it ends), and what it prints is not logged.\n';

/**
 * The program and arguments for a step's shell (SPEC §1): bash -e -o pipefail -c and sh -e -c, as GitHub Actions
 * runs them, so that a failing command fails the step; a shell given by path gets the script with -c alone.
 */
function shellCommand(shell: string, script: string): [string, string[]] {
  if (shell === 'bash') return ['bash', ['-e', '-o', 'pipefail', '-c', script]];
  if (shell === 'sh') return ['sh', ['-e', '-c', script]];
  return [shell, ['-c', script]];
}

/**
 * Start one attempt: its own process group (so the whole tree can be killed), stdout and stderr through
 * us into the log in the order they arrive (masked when there are secrets), stdout also kept for `.text`,
 * timeouts as SIGTERM then SIGKILL. Nothing the script leaves in its group outlives it, and nothing it
 * leaves anywhere holds the step past its process's end (or its deadline) and its group's SIGKILL grace.
 * A start that finds no file descriptor waits for a step to give some back (DescriptorGate).
 */
export function startProcess(req: ProcessRequest, { baseEnv, sweepId, groups, gate }: Launching): RunningProcess {
  const redactor = new Redactor(req.secrets);
  const env = { ...baseEnv, ...req.env, [SWEEP_ID_VAR]: sweepId };
  let reason: ProcessOutcome['reason'];
  // Replaced below: the promise's executor runs before startProcess returns.
  let terminate: (why: NonNullable<ProcessOutcome['reason']>) => void = () => {};
  const outcome = new Promise<ProcessOutcome>((resolve) => {
    let log: StepLog | undefined;
    // The first write that fails (a full disk, a deleted run folder) ends the attempt: a step whose output
    // cannot be recorded fails with that error (SPEC §4), rather than run on unrecorded or crash the job.
    let ioError: StepError | undefined;
    const direct = directCommand(req.shell, req.script, env, req.cwd);
    // What bash would have set (the shell, if exec falls back to it below, sets the same itself).
    if (direct) asBashLeavesIt(env, req.cwd, direct[0]);
    let [cmd, args] = direct ?? shellCommand(req.shell, req.script);
    const chunks: Buffer[] = [];
    let captured = 0;
    let truncated = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: string | undefined;
    const timers: NodeJS.Timeout[] = [];
    let child: StartedProcess | undefined;
    let admitted = false;

    let pid: number | undefined;
    let open = 3; // the process, its stdout and its stderr: the outcome is known when all three have ended
    const finish = () => {
      if (--open > 0) return;
      if (pid !== undefined) groups.delete(pid);
      for (const t of timers) clearTimeout(t);
      if (log) ioError ??= log.close();
      if (admitted) gate.release();
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
    const failToStart = (message: string) => {
      spawnError = message;
      open = 1;
      finish();
    };

    // Pipes still open once the group is gone are held by a process that left it: close them, keep what was read.
    let drain: NodeJS.Timeout | undefined;
    const closePipesSoon = () => {
      if (open === 0 || drain) return;
      drain = setTimeout(() => {
        const held = [child!.stdout, child!.stderr].filter((s) => !s.closed);
        if (held.length === 0) return;
        out.end();
        err.end();
        log!.write(HELD_PIPES_NOTE);
        for (const s of held) s.destroy();
      }, PIPE_DRAIN_MS);
      timers.push(drain);
    };
    const stopGroup = () => void groups.stop(pid!).then(closePipesSoon);

    const describeSpawnError = (e: NodeJS.ErrnoException) =>
      e.code === 'ENOENT' && !fs.existsSync(req.cwd)
        ? `working directory ${req.cwd} does not exist`
        : e.code === 'E2BIG'
          ? `cannot start ${cmd}: its environment and script are too big for the system (E2BIG): pass big values through files (the run folder is $ORCH_RUN_DIR)`
          : `cannot start ${cmd}: ${e.message}`;
    const onExit = (code: number | null, signal: NodeJS.Signals | null, error?: NodeJS.ErrnoException) => {
      if (error) spawnError = describeSpawnError(error);
      exit = { code, signal };
      // Whatever the script left running in its group goes with it (nothing outlives its step).
      stopGroup();
      finish();
    };

    const spawn = () => {
      const spawner = chooseSpawner();
      try {
        return spawner.spawn({ file: cmd, args, cwd: req.cwd, env, onExit });
      } catch (e) {
        // An executable file without `#!` (ENOEXEC): the shell runs such a file as a script of its own,
        // as it would have without our shortcut (src/process/direct.ts).
        if (!direct || (e as NodeJS.ErrnoException).code !== 'ENOEXEC') throw e;
        [cmd, args] = shellCommand(req.shell, req.script);
        return spawner.spawn({ file: cmd, args, cwd: req.cwd, env, onExit });
      }
    };
    const begin = () => {
      admitted = true;
      if (reason) {
        // Cancelled while it waited for descriptors: its outcome is out already.
        admitted = false;
        gate.release();
        return;
      }
      try {
        log = new StepLog(req.logPath, req.attempt > 1, (fault) => {
          ioError ??= fault;
          terminate('io');
        });
        child = spawn();
      } catch (e) {
        log?.close();
        log = undefined;
        admitted = false;
        gate.release();
        if (isOutOfDescriptors(e) && gate.exhausted()) {
          gate.admit(begin); // again when another step has ended
          return;
        }
        failToStart(isOutOfDescriptors(e) ? `cannot start ${cmd}: out of file descriptors with no other step running to wait for (raise \`ulimit -n\`): ${(e as Error).message}` : describeSpawnError(e as NodeJS.ErrnoException));
        return;
      }
      if (req.attempt > 1) log.write(`\n--- attempt ${req.attempt} ---\n`);
      pid = child.pid;
      if (pid > 0) groups.add(pid);
      if (req.timeoutMs !== undefined) timers.push(setTimeout(() => terminate('timeout'), req.timeoutMs));
      if (req.idleTimeoutMs !== undefined) timers.push((idle = setTimeout(() => terminate('idle-timeout'), req.idleTimeoutMs)));
      child.stdout.on('data', out.data).on('end', out.end).on('close', finish);
      child.stderr.on('data', err.data).on('end', err.end).on('close', finish);
    };

    terminate = (why) => {
      if (reason || exit || spawnError !== undefined) return; // the first reason wins
      reason = why;
      if (child) stopGroup();
      else {
        // Still waiting for descriptors: it never starts.
        open = 1;
        finish();
      }
    };

    let idle: NodeJS.Timeout | undefined;
    // Output that passes through us: to the log (masked when there are secrets), stdout also kept.
    const sink = (capture: boolean) => {
      let writer: ReturnType<typeof logWriter> | undefined;
      return {
        data: (chunk: Buffer) => {
          idle?.refresh();
          if (capture) {
            // Kept up to the limit exactly, so the text is the first 16 MiB whatever the pipe's chunk sizes.
            if (captured < MAX_CAPTURE_BYTES) chunks.push(chunk.subarray(0, MAX_CAPTURE_BYTES - captured));
            if (captured + chunk.length > MAX_CAPTURE_BYTES) truncated = true;
            captured += chunk.length;
          }
          (writer ??= logWriter(log!, redactor)).write(chunk);
        },
        end: () => {
          writer?.end();
          writer = undefined;
        },
      };
    };
    const out = sink(true);
    const err = sink(false);
    gate.admit(begin);
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
