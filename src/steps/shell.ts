import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ExpressionError } from '../expr/index.js';
import { formatDuration } from '../spec/duration.js';
import type { StepSpec } from '../spec/model.js';
import type { Redactor } from '../store/redact.js';
import type { RunDir } from '../store/run-dir.js';
import { directCommand } from './direct.js';
import { parseJsonOutput, parseOutputFile } from './outputs.js';
import { renderField, renderScript } from './render.js';
import { cancellationError, type AttemptInput, type AttemptResult, type StepExecutor } from './types.js';
import type { StepError } from '../errors.js';

/** Grace between SIGTERM and SIGKILL for a step's process group (SPEC §3). */
export const KILL_GRACE_MS = 5000;
/** How much stdout is kept in memory for `.text` and `output: json`; the log always gets everything. */
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

/** Runs `run:` steps: one process group per attempt, output to logs/<step>.log, killed as a tree. */
export class ShellExecutor implements StepExecutor {
  readonly #runDir: RunDir;
  readonly #baseEnv: Record<string, string | undefined>;
  readonly #redactor: Redactor;

  constructor(o: { runDir: RunDir; baseEnv: Record<string, string | undefined>; redactor: Redactor }) {
    this.#runDir = o.runDir;
    this.#baseEnv = o.baseEnv;
    this.#redactor = o.redactor;
  }

  async runAttempt({ step, attempt, signal, context }: AttemptInput): Promise<AttemptResult> {
    let script: string, exprEnv: Record<string, string>, stepEnv: Record<string, string>, cwd: string;
    try {
      ({ script, env: exprEnv } = renderScript(step.run!, context));
      stepEnv = {};
      for (const [k, v] of Object.entries(step.env)) stepEnv[k] = renderField(v, context);
      cwd = renderField(step.cwd, context);
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      return failure({ code: 'expression', message: e.message }, false);
    }
    const dir = this.#runDir;
    const artifacts = dir.artifactsDir(step.id);
    const outputFile = path.join(dir.workDir, `${step.id}.${attempt}.out`);
    fs.mkdirSync(artifacts, { recursive: true });
    const env = {
      ...this.#baseEnv,
      ...stepEnv,
      ...exprEnv,
      ORCH_JOB_ID: dir.jobId,
      ORCH_STEP: step.id,
      ORCH_RUN_DIR: dir.root,
      ORCH_ARTIFACTS: artifacts,
      ORCH_OUTPUT: outputFile,
    };
    const logFd = fs.openSync(dir.logPath(step.id), attempt === 1 ? 'w' : 'a');
    try {
      if (attempt > 1) fs.writeSync(logFd, `\n--- attempt ${attempt} ---\n`);
      const run = await runProcess({ step, script, env, cwd, logFd, signal, redactor: this.#redactor });
      return this.#result(step, run, outputFile, signal);
    } finally {
      fs.closeSync(logFd);
    }
  }

  #result(step: StepSpec, run: ProcessOutcome, outputFile: string, signal: AbortSignal): AttemptResult {
    const text = run.stdout.trim();
    const base = { exitCode: run.exitCode, text, outputs: {} };
    if (run.reason === 'cancelled') return { ...base, status: 'cancelled', error: cancellationError(signal), retryable: false };
    if (run.reason === 'timeout') return { ...base, status: 'failed', error: { code: 'timeout', message: `timed out after ${formatDuration(step.timeoutMs!)}` }, retryable: true };
    if (run.reason === 'idle-timeout') return { ...base, status: 'failed', error: { code: 'idle-timeout', message: `no output for ${formatDuration(step.idleTimeoutMs!)}` }, retryable: true };
    if (run.spawnError) return { ...base, status: 'failed', error: { code: 'spawn', message: run.spawnError }, retryable: false };
    if (run.exitCode !== 0) {
      const message = run.exitCode === null ? `killed by ${run.signal}` : `exited with code ${run.exitCode}`;
      return { ...base, status: 'failed', error: { code: 'exit', message }, retryable: true };
    }
    let outputs: Record<string, unknown> = {};
    let fileText: string | undefined;
    try {
      fileText = fs.readFileSync(outputFile, 'utf8');
      fs.unlinkSync(outputFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (fileText !== undefined) {
      const parsed = parseOutputFile(fileText);
      if ('error' in parsed) return { ...base, status: 'failed', error: { code: 'output', message: parsed.error }, retryable: false };
      outputs = parsed.outputs;
    }
    if (step.output === 'json') {
      if (run.truncated) return { ...base, status: 'failed', error: { code: 'output', message: 'output: json, but stdout is larger than 16 MiB' }, retryable: false };
      const parsed = parseJsonOutput(run.stdout);
      if ('error' in parsed) return { ...base, status: 'failed', error: { code: 'output', message: parsed.error }, retryable: false };
      outputs = { ...outputs, ...parsed.outputs };
    }
    return { ...base, status: 'succeeded', outputs, retryable: false };
  }
}

function failure(error: StepError, retryable: boolean): AttemptResult {
  return { status: 'failed', exitCode: null, text: '', outputs: {}, error, retryable };
}

interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  truncated: boolean;
  reason?: 'timeout' | 'idle-timeout' | 'cancelled';
  spawnError?: string;
}

/** The program and arguments for a step's shell (SPEC §1: bash -e -o pipefail -c, or `shell` with -c). */
function shellCommand(shell: string, script: string): [string, string[]] {
  if (shell === 'bash') return ['bash', ['-e', '-o', 'pipefail', '-c', script]];
  return [shell, ['-c', script]];
}

/** Process groups of steps still running, for a second Ctrl-C that must stop everything at once. */
const liveGroups = new Set<number>();

/** SIGKILL every step's process group now (the second Ctrl-C). */
export function killAllStepsNow(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
}

/** Signal a whole process group; a group that is already gone is fine. */
function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: nothing left in the group
  }
}

function runProcess(o: { step: StepSpec; script: string; env: Record<string, string | undefined>; cwd: string; logFd: number; signal: AbortSignal; redactor: Redactor }): Promise<ProcessOutcome> {
  const { step, redactor } = o;
  const watchStderr = redactor.isActive || step.idleTimeoutMs !== undefined;
  const [cmd, args] = directCommand(step.shell, o.script, o.env, o.cwd) ?? shellCommand(step.shell, o.script);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let captured = 0;
    let truncated = false;
    let reason: ProcessOutcome['reason'];
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: string | undefined;
    const timers: NodeJS.Timeout[] = [];
    let killTimer: NodeJS.Timeout | undefined;

    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', watchStderr ? 'pipe' : o.logFd] });
    const pid = child.pid;
    if (pid !== undefined) liveGroups.add(pid);

    const terminate = (why: NonNullable<ProcessOutcome['reason']>) => {
      if (reason || exit || pid === undefined) return; // the first reason wins
      reason = why;
      killGroup(pid, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => terminate('cancelled');
    if (o.signal.aborted) queueMicrotask(onAbort);
    else o.signal.addEventListener('abort', onAbort, { once: true });

    if (step.timeoutMs !== undefined) timers.push(setTimeout(() => terminate('timeout'), step.timeoutMs));
    const idle = step.idleTimeoutMs !== undefined ? setTimeout(() => terminate('idle-timeout'), step.idleTimeoutMs) : undefined;
    if (idle) timers.push(idle);

    // Output that passes through us: redacted when there are secrets. Each stream keeps its own carry so
    // a secret split across two chunks is still caught.
    const sink = (capture: boolean) => {
      let carry = '';
      const keep = Math.max(0, redactor.longest - 1);
      return {
        data: (chunk: Buffer) => {
          idle?.refresh();
          if (capture) {
            if (captured + chunk.length <= MAX_CAPTURE_BYTES) chunks.push(chunk);
            else truncated = true;
            captured += chunk.length;
          }
          if (!redactor.isActive) {
            fs.writeSync(o.logFd, chunk);
            return;
          }
          const text = carry + chunk.toString('utf8');
          const safe = redactor.redact(text);
          // Hold back a tail that could be the start of a secret.
          const cut = Math.max(0, safe.length - keep);
          fs.writeSync(o.logFd, safe.slice(0, cut));
          carry = safe.slice(cut);
        },
        end: () => {
          if (carry) fs.writeSync(o.logFd, redactor.redact(carry));
          carry = '';
        },
      };
    };
    const out = sink(true);
    child.stdout!.on('data', out.data).on('end', out.end);
    if (watchStderr) {
      const err = sink(false);
      child.stderr!.on('data', err.data).on('end', err.end);
    }

    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' && !fs.existsSync(o.cwd) ? `working directory ${o.cwd} does not exist` : `cannot start ${cmd}: ${e.message}`;
    });
    child.on('exit', (code, sig) => {
      exit = { code, signal: sig };
      // Whatever the script left running in its group goes with it (nothing outlives its step).
      if (pid !== undefined) killGroup(pid, 'SIGTERM');
      killTimer ??= setTimeout(() => pid !== undefined && killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    });
    child.on('close', (code, sig) => {
      if (pid !== undefined) liveGroups.delete(pid);
      for (const t of timers) clearTimeout(t);
      if (killTimer) clearTimeout(killTimer);
      o.signal.removeEventListener('abort', onAbort);
      const e = exit ?? { code, signal: sig };
      resolve({
        exitCode: spawnError ? null : e.code,
        signal: e.signal,
        stdout: Buffer.concat(chunks).toString('utf8'),
        truncated,
        reason,
        spawnError,
      });
    });
  });
}
