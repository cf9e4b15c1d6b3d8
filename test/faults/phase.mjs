// One command of a trial (`run`, then perhaps `resume`) under its fault: started, struck at its moment(s),
// waited on for at most HANG_BOUND_MS; then what its exit, its output and the processes it left say.
import fs from 'node:fs';
import path from 'node:path';
import { checkSecretInText, firstLine, hasStack, listJobs, runCli } from './checks.mjs';
import { killJobProcesses, waitForNoJobProcesses } from './processes.mjs';
import { JOB_TIMEOUT_S } from './scenario.mjs';

/** The job's timeout, the 5 s SIGTERM→SIGKILL grace, start-up, and a wide margin for a loaded 2-core machine. */
export const HANG_BOUND_MS = (JOB_TIMEOUT_S + 5) * 1000 + 19_000;
/** How long survivors may take to go after a clean exit, and after kill -9 (the launcher's or the watchdog's kill, and the 5 s grace of a setsid escapee). */
const GRACE_MS = 2_000;
const GRACE_AFTER_KILL_MS = 12_000;
const SIGNALS = { sigint: 'SIGINT', sigterm: 'SIGTERM', sighup: 'SIGHUP' };

/**
 * Runs `orchestrator ...args` under `fault` ({kind, atMs, againMs?}); returns {name, r, killed, delivered,
 * jobs (the run folders it made), violations}. Every process of the job is SIGKILLed before it returns.
 */
export async function runPhase({ name, args, fault, plan, bin, dir, env, runsDir, marker }) {
  const before = new Set(listJobs(runsDir));
  const started = Date.now();
  const { child, done } = runCli({ bin, args, cwd: dir, env, timeoutMs: HANG_BOUND_MS, detached: true });
  let exited = false;
  let delivered = fault.kind === 'disk-full' ? 1 : 0; // a full disk is there from the start
  const strike = () => {
    if (exited) return;
    delivered++;
    const signal = SIGNALS[fault.kind.split(' ')[0]];
    if (fault.kind === 'kill9') child.kill('SIGKILL');
    else if (fault.kind === 'runs-deleted') deleteWhileWritten(runsDir);
    else if (signal) child.kill(signal);
  };
  const timers = [];
  if (fault.kind !== 'none' && fault.kind !== 'disk-full') {
    timers.push(setTimeout(strike, fault.atMs));
    if (fault.againMs !== undefined) timers.push(setTimeout(strike, fault.atMs + fault.againMs));
  }
  const r = await done;
  exited = true;
  timers.forEach(clearTimeout);
  const elapsedMs = Date.now() - started;
  // What it printed, beside (not inside) the runs folder, for whoever reads a kept trial.
  fs.writeFileSync(path.join(dir, `${name}.stdout`), r.stdout);
  fs.writeFileSync(path.join(dir, `${name}.stderr`), r.stderr);
  const jobs = listJobs(runsDir).filter((j) => !before.has(j));
  const note = `${name}, fault ${fault.kind}${delivered || fault.kind === 'none' ? '' : ' (not delivered: it had ended)'}`;
  const killed = r.timedOut || (fault.kind === 'kill9' && delivered > 0);
  const violations = [];
  if (r.timedOut) violations.push({ kind: 'hang', detail: `${note}: still running ${HANG_BOUND_MS / 1000} s after start (job timeout ${JOB_TIMEOUT_S} s); ${describeJournal(runsDir, jobs[0])}; bodies ${bodies(plan)}` });
  // A signal before the orchestrator made its run folder leaves nothing to record.
  if (!killed && !(r.signal && jobs.length === 0)) violations.push(...checkExit({ r, note }));
  if (hasStack(r.stderr) || hasStack(r.stdout)) violations.push({ kind: 'stack-trace', detail: `${note}: printed a stack: ${stackLine(r.stderr + r.stdout)}` });
  violations.push(...checkSecretInText({ texts: [r.stdout, r.stderr], secret: plan.secret, where: `${name} output` }));
  if (!r.timedOut) {
    const survivors = await waitForNoJobProcesses(marker, killed ? GRACE_AFTER_KILL_MS : GRACE_MS);
    violations.push(...classifySurvivors({ survivors, killed, plan, note }));
  }
  killJobProcesses(marker);
  return { name, r, killed, delivered: delivered > 0, jobs, elapsedMs, violations, note };
}

/**
 * `rm -rf` of a folder the job is still writing into: a file it makes between rimraf's listing of a folder and its
 * rmdir fails that rmdir (ENOTEMPTY), so it tries again, as a user would. Never throws: an exception here, in a
 * timer, would end the whole harness and lose every trial's findings.
 */
function deleteWhileWritten(dir) {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 10 });
  } catch (e) {
    console.error(`(the runs folder was not deleted whole: ${e.code ?? e.message}; the job is struck all the same)`);
  }
}

/** A command that ended by itself exits 0, 1, 2 or 130 (SPEC §6): not on a signal, not 70 (an internal error). */
function checkExit({ r, note }) {
  if (r.signal) return [{ kind: 'killed-by-signal', detail: `${note}: the orchestrator died of ${r.signal}; nothing recorded its end` }];
  if (r.code === 70) return [{ kind: 'internal-error', detail: `${note}: exit 70: ${firstLine(r.stderr)}` }];
  if (![0, 1, 2, 130].includes(r.code)) return [{ kind: 'exit-code', detail: `${note}: exit ${r.code}: ${firstLine(r.stderr)}` }];
  return [];
}

function classifySurvivors({ survivors, killed, plan, note }) {
  const byKind = new Map();
  for (const p of survivors) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p]);
  return [...byKind].map(([kind, list]) => ({
    // After kill -9, the launcher process (large jobs) or the watchdog (small jobs) stops every step.
    kind: kind === 'setsid' ? 'survivor-setsid' : killed ? 'survivor-after-kill9' : 'survivor',
    detail: `${note}: ${list.length} ${kind} process(es) alive ${(killed ? GRACE_AFTER_KILL_MS : GRACE_MS) / 1000} s after the orchestrator ${killed ? 'was SIGKILLed' : 'exited'} (ORCH_LAUNCHER=${plan.env.ORCH_LAUNCHER}; bodies ${bodies(plan)}): ${list.map((p) => p.command.slice(0, 60)).join(' | ')}`,
  }));
}

function bodies(plan) {
  return plan.steps.map((s) => s.body).join(',');
}

/** The error line of a stack (`Error: ENOSPC …`), else its first line. */
export function stackLine(text) {
  return (text.split('\n').find((l) => /^\w*Error\b|^\w+: /.test(l.trim())) ?? firstLine(text)).trim().slice(0, 160);
}

/** What the journal of a hung job says was still running. */
function describeJournal(runsDir, job) {
  if (!job) return 'no run folder';
  try {
    const events = fs.readFileSync(path.join(runsDir, job, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const running = new Set();
    for (const e of events) {
      if (e.type === 'step.started') running.add(e.step);
      else if (e.step && /^step\.(succeeded|failed|cancelled|skipped)$/.test(e.type)) running.delete(e.step);
    }
    return `last event ${events.at(-1)?.type}; unsettled: ${[...running].join(', ') || 'none'}`;
  } catch {
    return 'journal unreadable';
  }
}
