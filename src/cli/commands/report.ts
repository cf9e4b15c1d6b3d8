import path from 'node:path';
import { OrchestratorError } from '../../errors.js';
import { renderReport } from '../../report/html.js';
import { loadReportInput } from '../../report/load.js';
import { writeAtomic } from '../../store/atomic.js';
import { readManifest, resolveJob } from '../../store/runs.js';
import { runsDirOf } from '../options.js';

/** Options of `orchestrator report`. */
export interface ReportOptions {
  json?: boolean;
  runsDir?: string;
}

/** `orchestrator report <job>`: write report.html into the run folder and print its path. */
export async function reportCommand(ref: string, opts: ReportOptions): Promise<number> {
  const runsDir = runsDirOf(opts);
  const jobId = resolveJob(runsDir, ref);
  const dir = path.join(runsDir, jobId);
  const manifest = readManifest(runsDir, jobId);
  if (manifest.damaged) process.stderr.write(`warning: ${manifest.damaged}; the report shows what events.jsonl recorded\n`);
  const input = loadReportInput(dir, manifest);
  for (const w of input.warnings) process.stderr.write(`warning: ${w}\n`);
  const html = renderReport(input);
  const file = path.join(dir, 'report.html');
  try {
    writeAtomic(file, html);
  } catch (e) {
    throw new OrchestratorError({ code: 'run-folder', message: `cannot write ${file}: ${(e as Error).message}` });
  }
  process.stdout.write(opts.json ? `${JSON.stringify({ path: path.resolve(file) })}\n` : `${file}\n`);
  return 0;
}
