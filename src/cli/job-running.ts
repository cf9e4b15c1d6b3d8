// Whether the process is running a job: a reader of `run`'s output that stops early (`| head`) must not end the job,
// which has its steps to finish and record. Kept on a global symbol: the entry point (dist/cli/main.cjs) and the
// program (dist/cli/program.cjs) are two bundles, each with its own copy of this module.
const RUNNING = Symbol.for('orchestrator.job-running');

type Flagged = typeof globalThis & { [RUNNING]?: boolean };

export function setJobRunning(running: boolean): void {
  (globalThis as Flagged)[RUNNING] = running;
}

export function isJobRunning(): boolean {
  return (globalThis as Flagged)[RUNNING] === true;
}
