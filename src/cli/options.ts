/**
 * `--runs-dir`, else $ORCH_RUNS_DIR, else ./runs (SPEC §4). An empty $ORCH_RUNS_DIR counts as unset: CI often
 * sets it from a variable that is not defined, and '' would put job folders in the current folder.
 */
export function runsDirOf(opts: { runsDir?: string }): string {
  return opts.runsDir ?? (process.env.ORCH_RUNS_DIR || 'runs');
}
