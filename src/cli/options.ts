/** `--runs-dir`, else $ORCH_RUNS_DIR, else ./runs (SPEC §4). */
export function runsDirOf(opts: { runsDir?: string }): string {
  return opts.runsDir ?? process.env.ORCH_RUNS_DIR ?? 'runs';
}
