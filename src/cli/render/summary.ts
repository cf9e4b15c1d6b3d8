import fs from 'node:fs';
import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import type { JobManifest } from '../../store/manifest.js';
import { formatDuration } from '../../spec/duration.js';

const LOG_TAIL_LINES = 10;

/** The end-of-run report: counts, then every failed step with its error and last log lines, every skipped or cancelled step with why. */
export function printSummary(out: NodeJS.WritableStream, c: ChalkInstance, m: JobManifest, runDir: string): void {
  const steps = Object.entries(m.steps);
  const count = (s: string) => steps.filter(([, r]) => r.status === s).length;
  const parts = [`${count('succeeded')} succeeded`, `${count('failed')} failed`, `${count('skipped')} skipped`];
  if (count('cancelled') > 0) parts.push(`${count('cancelled')} cancelled`);
  const paint = m.status === 'succeeded' ? c.green : m.status === 'failed' ? c.red : c.magenta;
  const took = m.duration_s === null ? '' : ` in ${formatDuration(m.duration_s * 1000)}`;
  const lines = ['', `${paint.bold(m.status)}${took}: ${parts.join(', ')}`];
  for (const [id, r] of steps) {
    if (r.status === 'failed') {
      lines.push(`${c.red('✗')} ${c.bold(id)}: ${r.error?.code}: ${r.error?.message}${r.attempts > 1 ? ` (after ${r.attempts} attempts)` : ''}`);
      for (const l of tail(path.join(runDir, 'logs', `${id}.log`))) lines.push(c.dim(`    │ ${l}`));
    } else if (r.status === 'skipped') {
      lines.push(`${c.gray('↷')} ${c.bold(id)} skipped: ${r.error?.message}`);
    } else if (r.status === 'cancelled') {
      lines.push(`${c.magenta('■')} ${c.bold(id)} cancelled: ${r.error?.message}`);
    }
  }
  lines.push(c.dim(`run folder: ${path.relative(process.cwd(), runDir) || runDir}   (orchestrator show ${m.job_id})`));
  out.write(`${lines.join('\n')}\n`);
}

function tail(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).filter((l) => l.length > 0);
}
