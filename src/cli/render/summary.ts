import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import { cleanLogText } from '../../report/escape.js';
import { readLogLines, type LogLines } from '../../store/log-tail.js';
import type { JobManifest, StepRecord } from '../../store/manifest.js';
import { formatDuration } from '../../specfile/duration.js';
import { showCommandFor } from './hint.js';
import { statusPaint } from './color.js';
import { plural, toOneLine, toPrintable } from './units.js';

/** Log lines a failed step shows in the summary unless `--tail` says otherwise. */
export const DEFAULT_TAIL_LINES = 10;
/** Failed (or cancelled, or skipped) instances of one fanned step the summary names; \`show\` lists them all. */
const INSTANCES_QUOTED = 3;
/** A summary is read in a terminal: a longer log line is cut. */
const LINE_CHARS = 500;
/** Failed steps shown in full (error and log excerpt); more are counted. */
const FAILED_SHOWN = 20;
/** Cancelled, and skipped, steps listed each; more are counted (a cancelled chain of 50,000 steps is one line, not 50,000). */
const NOT_RUN_SHOWN = 10;

/** What the end-of-run report is about and where it goes. */
export interface SummaryOptions {
  out: NodeJS.WritableStream;
  colors: ChalkInstance;
  manifest: JobManifest;
  runDir: string;
  /** Log lines shown per failed step (`--tail`). */
  tail?: number;
  /** Wraps a failed step's quoted log (GitHub Actions folds it, and fences it off from workflow commands). */
  wrapLog?: (title: string, lines: string[]) => string[];
}

/**
 * The end-of-run report: counts, then each failed step with its error and last log lines, each cancelled
 * and skipped step with why; past a few of a kind, the rest are counted, with their reason when they share one.
 */
export function printSummary({ out, colors: c, manifest: m, runDir, tail = DEFAULT_TAIL_LINES, wrapLog }: SummaryOptions): void {
  const steps = Object.entries(m.steps);
  // A fanned step is counted as its instances (as --junit and the live view count it), not once more itself.
  const counted = steps.filter(([, r]) => r.instances === undefined);
  const count = (s: string) => counted.filter(([, r]) => r.status === s).length;
  const parts = [`${count('succeeded')} succeeded`, `${count('failed')} failed`, `${count('skipped')} skipped`];
  if (count('cancelled') > 0) parts.push(`${count('cancelled')} cancelled`);
  const paint = statusPaint(c, m.status);
  const took = m.duration_s === null ? '' : ` in ${formatDuration(m.duration_s * 1000)}`;
  const lines = ['', `${c.bold(paint(m.status))}${took}: ${parts.join(', ')}`];
  const show = showCommandFor(m.job_id, runDir);
  // Failures first (what to fix), then what they cancelled and skipped. A fanned step quotes its first few
  // instances (five hundred failed instances are one problem told five hundred times), and each kind is cut
  // after its first lines, with what was left out counted.
  const name = (id: string, r: StepRecord) => `${c.bold(id)}${r.label !== undefined ? c.dim(` (${toPrintable(r.label)})`) : ''}`;
  const quotedOf = (status: string) => {
    const kept: [string, StepRecord][] = [];
    const extra = new Map<string, number>();
    const seen = new Map<string, number>();
    for (const [id, r] of steps) {
      if (r.status !== status) continue;
      const of = r.instance_of;
      if (of === undefined) kept.push([id, r]);
      else {
        const n = (seen.get(of) ?? 0) + 1;
        seen.set(of, n);
        if (n <= INSTANCES_QUOTED) kept.push([id, r]);
        else extra.set(of, (extra.get(of) ?? 0) + 1);
      }
    }
    return { kept, extra };
  };
  const moreInstances = (extra: Map<string, number>, status: string) => [...extra].map(([of, n]) => c.dim(`  … ${plural(n, `more ${status} instance`, `more ${status} instances`)} of ${of}: ${show}`));
  const failed = quotedOf('failed');
  for (const [id, r] of failed.kept.slice(0, FAILED_SHOWN)) {
    lines.push(`${c.red('✗')} ${name(id, r)}: ${r.error?.code}: ${toPrintable(r.error?.message ?? '')}${r.attempts > 1 ? ` (after ${r.attempts} attempts)` : ''}`);
    const excerpt = logExcerpt(c, path.join(runDir, 'logs', `${id}.log`), tail, `${show} --logs ${id}`, r.attempts);
    lines.push(...(wrapLog && excerpt.length > 0 ? wrapLog(`${id}${r.label !== undefined ? ` (${toPrintable(r.label)})` : ''}: the end of its log`, excerpt) : excerpt));
  }
  lines.push(...moreLine(c, failed.kept.slice(FAILED_SHOWN), 'failed', show), ...moreInstances(failed.extra, 'failed'));
  for (const [status, mark] of [['cancelled', c.magenta('■')], ['skipped', c.gray('↷')]] as const) {
    const these = quotedOf(status);
    for (const [id, r] of these.kept.slice(0, NOT_RUN_SHOWN)) lines.push(`${mark} ${name(id, r)} ${status}: ${toPrintable(r.error?.message ?? '')}`);
    lines.push(...moreLine(c, these.kept.slice(NOT_RUN_SHOWN), status, show), ...moreInstances(these.extra, status));
  }
  lines.push(c.dim(`run folder: ${path.relative(process.cwd(), runDir) || runDir}   (${show})`));
  out.write(`${lines.map(toOneLine).join('\n')}\n`);
}

/** `… and 2990 more cancelled (not started: cancelled by signal)`: the steps past those listed, with their reason when they share one. */
function moreLine(c: ChalkInstance, rest: [string, JobManifest['steps'][string]][], status: string, show: string): string[] {
  if (rest.length === 0) return [];
  const first = rest[0]![1].error?.message;
  const why = rest.every(([, r]) => r.error?.message === first) && first !== undefined ? `(${toPrintable(first)})` : `(${show} lists them all)`;
  return [c.dim(`  … and ${rest.length} more ${status} ${why}`)];
}

/** A failed step's log as the summary quotes it: the lines above the tail that look like failures, then the tail. */
function logExcerpt(c: ChalkInstance, file: string, tail: number, showCommand: string, attempts: number): string[] {
  let log: LogLines | undefined;
  try {
    // After retries, the last attempt's lines: each attempt's failure quoted again would say nothing new.
    log = readLogLines(file, { lines: tail, lineChars: LINE_CHARS, lastAttempt: attempts });
  } catch (e) {
    return [c.dim(`    │ (cannot read its log ${file}: ${(e as Error).message})`)];
  }
  if (!log) return [];
  // A log's own colours are kept only where ours are (NO_COLOR, pipes and CI logs get plain text).
  const quote = (l: string) => (c.level > 0 ? l : cleanLogText(l));
  const lines: string[] = [];
  if (log.failures.length > 0) {
    const which = log.failureCount > log.failures.length ? `the last ${log.failures.length} of ${log.failureCount}` : String(log.failureCount);
    lines.push(c.dim(`    │ lines above that look like failures (${which}):`));
    for (const l of log.failures) lines.push(`    ${c.red('»')} ${quote(l)}`);
  }
  if (log.lastAttemptOnly) {
    const more = log.earlier ? `, ${log.earlier} earlier lines of it` : '';
    lines.push(c.dim(`    │ … the log of attempt ${attempts} of ${attempts}${more} (the earlier attempts': ${showCommand})`));
  } else if (log.earlier === undefined || log.earlier > 0) {
    lines.push(c.dim(`    │ … ${log.earlier === undefined ? 'more' : log.earlier} earlier lines: ${showCommand}`));
  }
  for (const l of log.tail) lines.push(c.dim(`    │ ${quote(l)}`));
  return lines;
}
