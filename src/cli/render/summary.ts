import fs from 'node:fs';
import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import { cleanLogText } from '../../report/escape.js';
import type { JobManifest } from '../../store/manifest.js';
import { formatDuration } from '../../spec/duration.js';
import { showCommandFor } from './hint.js';

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
  const show = showCommandFor(m.job_id, runDir);
  // Failures first (what to fix), then what they cancelled and skipped.
  for (const [id, r] of steps) {
    if (r.status !== 'failed') continue;
    lines.push(`${c.red('✗')} ${c.bold(id)}: ${r.error?.code}: ${r.error?.message}${r.attempts > 1 ? ` (after ${r.attempts} attempts)` : ''}`);
    const { shown, total } = tail(path.join(runDir, 'logs', `${id}.log`));
    if (total > shown.length) lines.push(c.dim(`    │ … ${total - shown.length} earlier lines: ${show} --logs ${id}`));
    // A log's own colours are kept only where ours are (NO_COLOR, pipes and CI logs get plain text).
    for (const l of shown) lines.push(c.dim(`    │ ${c.level > 0 ? l : cleanLogText(l)}`));
  }
  for (const [id, r] of steps) if (r.status === 'cancelled') lines.push(`${c.magenta('■')} ${c.bold(id)} cancelled: ${r.error?.message}`);
  for (const [id, r] of steps) if (r.status === 'skipped') lines.push(`${c.gray('↷')} ${c.bold(id)} skipped: ${r.error?.message}`);
  lines.push(c.dim(`run folder: ${path.relative(process.cwd(), runDir) || runDir}   (${show})`));
  out.write(`${lines.join('\n')}\n`);
}

/** The last lines of a log, and how many non-empty lines it has in all. */
function tail(file: string): { shown: string[]; total: number } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { shown: [], total: 0 };
  }
  const lines = text.trimEnd().split('\n').filter((l) => l.length > 0);
  return { shown: lines.slice(-LOG_TAIL_LINES), total: lines.length };
}
