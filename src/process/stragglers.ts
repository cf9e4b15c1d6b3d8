// Processes a job's steps left running outside their process groups: a step that started a daemon with
// `setsid` (its own session) is beyond the SIGTERM/SIGKILL of its group. Every step process carries its
// launcher's ORCH_SWEEP_ID in its environment, and so does whatever it starts, so on Linux a job can find what
// its steps left behind in /proc and stop it before it ends (nothing of a job outlives it). Not ORCH_JOB_ID: a
// worker on the same machine runs steps of the same job with the same ORCH_JOB_ID, and they are the worker's
// (and a worker's launcher serves many jobs: its sweep is of all it started). Elsewhere (macOS) there is no
// cheap way to read another process's environment, and such a daemon is left running.
import fs from 'node:fs';
import { killGraceMs } from './process-groups.js';

/** The variable that marks every process a launcher's steps start, with the launcher's sweep id (launcher.ts makes one per launcher). */
export const SWEEP_ID_VAR = 'ORCH_SWEEP_ID';

/** The newest pid at this moment (Linux), so that a later scan reads only the processes made since. */
export function pidMark(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return Number(fs.readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/)[4]);
  } catch {
    return undefined;
  }
}

/** A process that was stopped: its pid and command line. */
export interface Straggler {
  pid: number;
  command: string;
}

/**
 * Stop every process whose environment carries this sweep id (`ORCH_SWEEP_ID`: started by a step of the launcher
 * that has it, or by what such a step started), other than this one: SIGTERM to it and
 * its group, then SIGKILL to what is left after the grace. Reads only processes made after `since` (a
 * `pidMark()`; all when the pid counter wrapped). With `rescanMs` it looks again that much later, for a
 * process that was between fork and exec the first time (its environment unreadable for that moment): the
 * launcher does so when the orchestrator died, where no one waits on it. Resolves with what it stopped;
 * nothing on other systems.
 */
export async function stopStragglers(o: { sweepId: string; since: number | undefined; graceMs?: number; rescanMs?: number }): Promise<Straggler[]> {
  if (o.since === undefined) return [];
  const found = findStragglers(o.sweepId, o.since, new Set());
  for (const s of found) signal(s.pid, 'SIGTERM');
  if (o.rescanMs !== undefined) {
    await new Promise((r) => setTimeout(r, o.rescanMs));
    const late = findStragglers(o.sweepId, o.since, new Set(found.map((s) => s.pid)));
    for (const s of late) signal(s.pid, 'SIGTERM');
    found.push(...late);
  }
  if (found.length === 0) return [];
  const deadline = Date.now() + (o.graceMs ?? killGraceMs());
  while (Date.now() < deadline && found.some((s) => isRunning(s.pid))) await new Promise((r) => setTimeout(r, 50));
  for (const s of found) if (isRunning(s.pid)) signal(s.pid, 'SIGKILL');
  // A SIGKILLed process is gone only once it has been scheduled to die: on a loaded machine that takes a
  // moment, and the job is not over while it still runs.
  const killed = Date.now() + KILLED_WAIT_MS;
  while (Date.now() < killed && found.some((s) => isRunning(s.pid))) await new Promise((r) => setTimeout(r, 10));
  return found;
}

/** How long to wait for SIGKILLed stragglers to be gone. */
const KILLED_WAIT_MS = 2000;

/** The running processes made after `since` whose environment carries the sweep id, but this one and those in `known`. */
function findStragglers(sweepId: string, since: number, known: Set<number>): Straggler[] {
  const now = pidMark() ?? 0;
  const wrapped = now < since;
  const marker = Buffer.from(`${SWEEP_ID_VAR}=${sweepId}\0`);
  const found: Straggler[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid || known.has(pid) || (!wrapped && pid <= since)) continue;
    let env: Buffer;
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (!env.subarray(0, marker.length).equals(marker) && env.indexOf(Buffer.concat([Buffer.from([0]), marker])) < 0) continue;
    if (!isRunning(pid)) continue;
    found.push({ pid, command: commandOf(pid) });
  }
  return found;
}

/** SIGTERM or SIGKILL to a process and, when it leads one, its group (what `setsid` made it). */
function signal(pid: number, sig: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
    } catch {
      // gone already, or not a group leader
    }
  }
}

/** Alive and not a zombie (a zombie is dead; its parent, init, reaps it). */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 120);
  } catch {
    return '?';
  }
}
