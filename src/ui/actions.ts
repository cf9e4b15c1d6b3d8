import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { listJobIds, readManifest } from '../store/runs.js';

/** How long a started resume or rerun may take to create its run folder before the page is told it failed. */
const START_WAIT_MS = 20_000;

/**
 * Cancel a running job the way Ctrl-C does: its own orchestrator process (the manifest's `pid`, on this host)
 * receives SIGINT, cancels its steps and records the job as cancelled.
 */
export function cancelJob(runsDir: string, jobId: string): { pid: number } {
  const m = readManifest(runsDir, jobId);
  if (m.status !== 'running') throw new OrchestratorError({ code: 'usage', message: `job ${jobId} is not running (${m.status})` });
  if (m.hostname !== os.hostname()) throw new OrchestratorError({ code: 'usage', message: `job ${jobId} runs on ${m.hostname}, not on this machine: cancel it there` });
  try {
    process.kill(m.pid, 'SIGINT');
  } catch (e) {
    throw new OrchestratorError({ code: 'usage', message: `cannot signal job ${jobId}'s process ${m.pid}: ${(e as Error).message}` });
  }
  return { pid: m.pid };
}

/** What the page asks to start: `resume` of a job, or `rerun` of one of its steps. */
export type StartAction = { kind: 'resume'; jobId: string } | { kind: 'rerun'; jobId: string; step: string };

/**
 * Start `orchestrator resume|rerun` as a process of its own, exactly as typed in a terminal (so it is the CLI's code,
 * and its job can be cancelled like any other), and answer with the new job's id once its run folder names its
 * pid. A command that fails before that (a running job, an unknown step) is an error carrying its message.
 */
export async function startAction(runsDir: string, action: StartAction): Promise<{ jobId: string }> {
  const before = new Set(listJobIds(runsDir));
  const args = action.kind === 'resume' ? ['resume', action.jobId] : ['rerun', action.jobId, '--step', action.step];
  const errDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ui-action-'));
  const errFile = path.join(errDir, 'stderr');
  const errFd = fs.openSync(errFile, 'w');
  // Detached and on its own stdio: the job outlives the page and the server, as one started from a shell would.
  const child = spawn(process.execPath, [process.argv[1]!, ...args, '--runs-dir', runsDir, '--quiet'], { detached: true, stdio: ['ignore', 'ignore', errFd] });
  fs.closeSync(errFd);
  child.unref();
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  try {
    const deadline = Date.now() + START_WAIT_MS;
    while (Date.now() < deadline) {
      for (const id of listJobIds(runsDir)) {
        if (before.has(id)) continue;
        try {
          if (readManifest(runsDir, id).pid === child.pid) return { jobId: id };
        } catch {
          // Its first records are being written: looked at again below.
        }
      }
      if (exited !== undefined) {
        const said = fs.readFileSync(errFile, 'utf8').trim();
        throw new OrchestratorError({ code: 'usage', message: said === '' ? `orchestrator ${args[0]} exited with ${exited} before starting a job` : said });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new OrchestratorError({ code: 'usage', message: `orchestrator ${args[0]} started no job within ${START_WAIT_MS / 1000}s` });
  } finally {
    fs.rmSync(errDir, { recursive: true, force: true }); // the child keeps its descriptor; the name is not needed
  }
}
