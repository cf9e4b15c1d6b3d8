// The step launcher: a small process that starts the processes of shell steps for a large job
// (see process/launcher.ts). It reads requests as JSON lines on stdin and answers on stdout. When
// its stdin closes (the job is done, or the orchestrator died), it stops every step it started.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { killGraceMs } from './process-groups.js';
import { DescriptorGate, ProcessGroups, startProcess, type RunningProcess } from './step-process.js';
import { pidMark, stopStragglers } from './stragglers.js';
import type { LauncherReply, LauncherRequest } from './forked-launcher.js';

const running = new Map<number, RunningProcess>();
const groups = new ProcessGroups({ graceMs: killGraceMs() });
// The sweep id its steps carry (from the init message), what pid the system was at when it started, and who
// started it: if the orchestrator dies (kill -9), this process stops what its steps left outside their groups
// too, as the orchestrator would have at the job's end (stragglers.ts).
let sweepId: string | undefined;
// The job's scratch folder (where steps write $ORCH_OUTPUT before it is read and redacted): removed if the
// orchestrator dies, for what a step wrote there may hold a secret that was never masked.
let workDir: string | undefined;
const since = pidMark();
const parent = process.ppid;
/** The orchestrator said the job is over (`end`) before closing the pipe. */
let ended = false;
const launching = { baseEnv: {} as Record<string, string | undefined>, sweepId: '', groups, gate: new DescriptorGate() };
// Replies of one turn of the event loop go out in one write: every write wakes the orchestrator.
let outbox = '';
const reply = (m: LauncherReply): void => {
  if (outbox === '') setImmediate(flush);
  outbox += `${JSON.stringify(m)}\n`;
};
const flush = () => {
  const text = outbox;
  outbox = '';
  process.stdout.write(text);
};

readline
  .createInterface({ input: process.stdin })
  .on('line', (line) => {
    const m = JSON.parse(line) as LauncherRequest;
    switch (m.t) {
      case 'init':
        launching.baseEnv = m.env;
        launching.sweepId = sweepId = m.sweepId;
        workDir = m.workDir;
        return;
      case 'run': {
        workDir ??= path.dirname(m.req.outputFile);
        let p: RunningProcess;
        try {
          p = startProcess(m.req, launching);
        } catch (e) {
          reply({ t: 'error', id: m.id, message: (e as Error).message });
          return;
        }
        running.set(m.id, p);
        p.outcome.then(
          (outcome) => {
            running.delete(m.id);
            reply({ t: 'done', id: m.id, outcome });
          },
          (e: unknown) => {
            running.delete(m.id);
            reply({ t: 'error', id: m.id, message: (e as Error).message });
          },
        );
        return;
      }
      case 'cancel':
        running.get(m.id)?.cancel();
        return;
      case 'settle':
        void groups.settled().then(() => reply({ t: 'settled' }));
        return;
      case 'end':
        ended = true;
        return;
      case 'kill-all':
        // The second Ctrl-C: every step dies now, and each outcome is still reported, so the job is recorded.
        groups.killAll();
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown launcher request ${JSON.stringify(never)}`);
      }
    }
  })
  .on('close', () => {
    // The orchestrator died (its pipe closed without its goodbye, with steps running, or it is no longer our
    // parent): nothing may outlive it. (Its pipe closes before the kernel gives us a new parent, so a death
    // between steps looks like a normal end but for the missing goodbye.)
    if (!ended || running.size > 0 || process.ppid !== parent) return abandoned(0);
    // Normal end: nothing is running, but what steps left behind may still be owed its SIGKILL (at most
    // the kill grace away): this process may not end before.
    void groups.settled().then(() => process.exit(0));
  });

process.stdout.on('error', () => {
  // The orchestrator is gone (EPIPE): stop what it started.
  abandoned(1);
});

/** How long after its first look the launcher looks again for what the job left outside its groups (see stopStragglers). */
const RESCAN_MS = 200;

function removeWorkDir(): void {
  if (workDir === undefined) return;
  try {
    fs.rmSync(workDir, { recursive: true, force: true });
  } catch {
    // the runs folder is gone or unwritable: nothing there to remove
  }
}

let abandoning = false;
/** Stop every step's group and, on Linux, what the job left outside them (stragglers.ts); then exit. */
function abandoned(code: number): void {
  if (abandoning) return;
  abandoning = true;
  groups.killAll();
  removeWorkDir();
  const stragglers = sweepId !== undefined ? stopStragglers({ sweepId, since, rescanMs: RESCAN_MS }) : undefined;
  void Promise.all([groups.settled(), stragglers]).then(() => {
    removeWorkDir(); // again: a straggler may have written there before it was stopped
    process.exit(code);
  });
}
process.on('SIGTERM', () => {
  groups.killAll();
  process.exit(143);
});
// Ctrl-C, and the SIGHUP of a closed terminal, reach the whole foreground group: the orchestrator decides what to cancel.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
