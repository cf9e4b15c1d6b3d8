import { OrchestratorError } from '../../errors.js';
import { formatDuration } from '../../specfile/duration.js';
import type { JobManifest } from '../../store/manifest.js';
import { listJobIds, readManifest } from '../../store/runs.js';
import { runsDirOf } from '../options.js';
import { colorsFor, paintStatus } from '../render/color.js';
import { table } from '../render/table.js';

/** `orchestrator list-runs`: past jobs, newest first; reads only as many manifests as it shows. */
export async function listRunsCommand(opts: { limit: number; status?: string; json?: boolean; runsDir?: string }): Promise<number> {
  const runsDir = runsDirOf(opts);
  const ids = listJobIds(runsDir).reverse();
  const jobs: JobManifest[] = [];
  const unreadable: string[] = [];
  for (const id of ids) {
    if (jobs.length >= opts.limit) break;
    let m: JobManifest;
    try {
      m = readManifest(runsDir, id);
    } catch (e) {
      if (!(e instanceof OrchestratorError)) throw e;
      unreadable.push(e.message);
      continue;
    }
    if (!opts.status || m.status === opts.status) jobs.push(m);
  }
  for (const u of unreadable) process.stderr.write(`warning: ${u}\n`);
  if (opts.json) {
    const rows = jobs.map((m) => ({ job_id: m.job_id, name: m.name, status: m.status, started_at: m.started_at, duration_s: m.duration_s }));
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (jobs.length === 0) {
    process.stdout.write(ids.length === 0 ? `no runs in ${runsDir} yet\n` : 'no runs match\n');
    return 0;
  }
  const c = colorsFor(process.stdout);
  const rows = jobs.map((m) => {
    const steps = Object.values(m.steps);
    const done = steps.filter((s) => s.status === 'succeeded').length;
    return [m.job_id, m.name, paintStatus(c, m.status), m.started_at.replace('T', ' ').slice(0, 19), m.duration_s === null ? '-' : formatDuration(m.duration_s * 1000), `${done}/${steps.length}`];
  });
  process.stdout.write(`${table(['JOB', 'NAME', 'STATUS', 'STARTED (UTC)', 'TOOK', 'STEPS OK'], rows)}\n`);
  return 0;
}
