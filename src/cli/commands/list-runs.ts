import { OrchestratorError } from '../../errors.js';
import { formatDuration } from '../../specfile/duration.js';
import { RunSummaries, type RunSummary } from '../../store/run-summaries.js';
import { listJobIds } from '../../store/runs.js';
import { runsDirOf } from '../options.js';
import { colorsFor, paintStatus } from '../render/color.js';
import { table } from '../render/table.js';
import { toPrintable } from '../render/units.js';

/** One row of `list-runs`: a job as its records show it, or a run folder marked damaged with what is wrong. */
interface Row {
  job_id: string;
  name: string | null;
  status: string;
  started_at: string | null;
  duration_s: number | null;
  steps?: { ok: number; total: number };
  /** What is wrong with the run folder, when it is damaged. */
  damaged?: string;
}

/** A job's row: a damaged manifest that the journal rebuilt is still marked damaged. */
function rowOf(s: RunSummary): Row {
  const total = Object.values(s.ran).reduce((a, b) => a + b, 0);
  return {
    job_id: s.job_id,
    name: s.name,
    status: s.status,
    started_at: s.started_at,
    duration_s: s.duration_s,
    steps: { ok: s.ran.succeeded ?? 0, total },
    ...(s.damaged ? { damaged: s.damaged } : {}),
  };
}

/** `orchestrator list-runs`: past jobs, newest first; reads only as many manifests as it shows. One damaged run folder gets its own row and a warning; the others are listed. */
export async function listRunsCommand(opts: { limit: number; status?: string; json?: boolean; runsDir?: string }): Promise<number> {
  const runsDir = runsDirOf(opts);
  const ids = listJobIds(runsDir).reverse();
  const summaries = RunSummaries.open(runsDir);
  const rows: Row[] = [];
  for (const id of ids) {
    if (rows.length >= opts.limit) break;
    let row: Row;
    try {
      row = rowOf(summaries.summary(id));
    } catch (e) {
      if (!(e instanceof OrchestratorError)) throw e;
      if (e.diagnostics[0]?.code === 'unknown-job') continue; // its folder went since the listing (pruned): no run
      row = { job_id: id, name: null, status: 'damaged', started_at: null, duration_s: null, damaged: e.message };
    }
    if (row.damaged) process.stderr.write(`warning: ${row.damaged}\n`);
    if (!opts.status || row.status === opts.status) rows.push(row);
  }
  summaries.save(ids);
  if (opts.json) {
    const out = rows.map((r) => ({ job_id: r.job_id, name: r.name, status: r.status, started_at: r.started_at, duration_s: r.duration_s, ...(r.damaged ? { damaged: r.damaged } : {}) }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(ids.length === 0 ? `no runs in ${runsDir} yet\n` : 'no runs match\n');
    return 0;
  }
  const c = colorsFor(process.stdout);
  const cells = rows.map((r) => [
    r.job_id,
    r.name === null ? '?' : toPrintable(r.name),
    paintStatus(c, r.status),
    r.started_at === null ? '?' : r.started_at.replace('T', ' ').slice(0, 19),
    r.duration_s === null ? '-' : formatDuration(r.duration_s * 1000),
    r.steps ? `${r.steps.ok}/${r.steps.total}` : '?',
  ]);
  process.stdout.write(`${table(['JOB', 'NAME', 'STATUS', 'STARTED (UTC)', 'TOOK', 'STEPS OK'], cells)}\n`);
  return 0;
}
