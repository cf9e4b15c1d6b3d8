import type { ChalkInstance } from 'chalk';
import { formatDuration } from '../../specfile/duration.js';
import type { JobManifest, StepRecord } from '../../store/manifest.js';
import { statusPaint } from './color.js';
import { listedInstances } from './instances.js';
import { plural, toPrintable } from './units.js';

/** What `renderTimeline` needs besides the manifest. */
export interface TimelineOptions {
  /** Terminal columns to fit in. */
  width: number;
  colors: ChalkInstance;
  /** Each step's `needs`, from the job's spec; without it the critical path is inferred from timing alone. */
  needs?: Readonly<Record<string, readonly string[]>>;
  /** "Now" in ms since the epoch, for steps (and jobs) still running. */
  now?: number;
}

/** A step placed on the time axis, in ms from the job's start. */
interface Span {
  id: string;
  record: StepRecord;
  start: number;
  end: number;
}

const MIN_BAR_WIDTH = 10;
const STATUS_WIDTH = 11; // 'interrupted'
const DURATION_WIDTH = 7;
const CRITICAL = '*';

/** A Gantt chart of a job's steps: one bar per step on a shared time axis, coloured by status, critical path marked. */
export function renderTimeline(m: JobManifest, opts: TimelineOptions): string {
  const c = opts.colors;
  const now = opts.now ?? Date.now();
  const t0 = Date.parse(m.started_at);
  // A fanned step of many instances draws those that need a look, as `show` lists them: its own bar spans them all.
  const notes: string[] = [];
  const unlisted = new Set<string>();
  for (const [id, r] of Object.entries(m.steps)) {
    if (!r.instances) continue;
    const listed = new Set(listedInstances(m, r.instances));
    if (listed.size === r.instances.length) continue;
    for (const x of r.instances) if (!listed.has(x)) unlisted.add(x);
    notes.push(c.dim(`${id}: ${plural(r.instances.length - listed.size, 'more instance', 'more instances')} succeeded (show --json lists every one)`));
  }
  const ids = Object.keys(m.steps).filter((id) => !unlisted.has(id));
  const spans: Span[] = [];
  for (const id of ids) {
    const r = m.steps[id]!;
    if (r.started_at === null) continue;
    const start = Date.parse(r.started_at) - t0;
    const end = r.finished_at !== null ? Date.parse(r.finished_at) - t0 : r.duration_s !== null ? start + r.duration_s * 1000 : now - t0;
    spans.push({ id, record: r, start: Math.max(0, start), end: Math.max(start, end) });
  }
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  const unstarted = ids.filter((id) => m.steps[id]!.started_at === null);

  const took = m.duration_s === null ? '' : ` in ${formatDuration(m.duration_s * 1000)}`;
  const header = `${c.bold(toPrintable(m.name))}  ${m.job_id}  ${statusPaint(c, m.status)(m.status)}${took}`;
  if (spans.length === 0) return `${header}\n${c.dim('no step has started')}\n`;

  const jobEnd = m.finished_at !== null ? Date.parse(m.finished_at) - t0 : now - t0;
  const total = Math.max(1, jobEnd, ...spans.map((s) => s.end));
  const critical = criticalPath(spans, opts.needs);

  const idWidth = Math.min(32, Math.max(4, ...ids.map((id) => id.length)));
  const labelWidth = idWidth + 3; // id, space, marker, space
  const rightWidth = 2 + DURATION_WIDTH + 1 + STATUS_WIDTH;
  const barWidth = Math.max(MIN_BAR_WIDTH, opts.width - labelWidth - rightWidth - 2);
  const col = (ms: number) => Math.min(barWidth, Math.max(0, Math.round((ms / total) * barWidth)));

  const label = (id: string, isCritical: boolean) => {
    const shown = id.length > idWidth ? `${id.slice(0, idWidth - 1)}…` : id.padEnd(idWidth);
    return `${c.bold(shown)} ${isCritical ? c.yellow(CRITICAL) : ' '} `;
  };
  const right = (r: StepRecord, ms: number | null) => {
    const dur = ms === null ? '-' : formatDuration(ms);
    const how = r.reused ? ' (reused)' : r.cached ? ' (cached)' : '';
    return `  ${dur.padStart(DURATION_WIDTH)} ${statusPaint(c, r.status)(r.status)}${c.dim(how)}`;
  };

  // A step that never settled (cancelled while running, interrupted) has no duration: its bar's length stands for it.
  const msOf = (s: Span) => (s.record.duration_s !== null ? s.record.duration_s * 1000 : s.end - s.start);
  const lines = [header, ''];
  for (const s of spans) {
    const from = Math.min(col(s.start), barWidth - 1);
    const to = Math.max(from + 1, col(s.end));
    const bar = ' '.repeat(from) + statusPaint(c, s.record.status)('█'.repeat(to - from)) + ' '.repeat(barWidth - to);
    const ms = msOf(s);
    lines.push(`${label(s.id, critical.has(s.id))}${c.dim('│')}${bar}${c.dim('│')}${right(s.record, ms)}`);
  }
  for (const id of unstarted) {
    const r = m.steps[id]!;
    lines.push(`${label(id, false)}${c.dim('│')}${' '.repeat(barWidth)}${c.dim('│')}${right(r, null)}`);
  }
  lines.push(...axis(total, barWidth, labelWidth, c));
  const chain = spans.filter((s) => critical.has(s.id));
  const chainMs = chain.reduce((sum, s) => sum + msOf(s), 0);
  lines.push('', `${c.yellow(CRITICAL)} critical path: ${chain.map((s) => s.id).join(' → ')}  ${c.dim(`(${formatDuration(chainMs)} of steps in ${formatDuration(total)})`)}`, ...notes);
  return `${lines.join('\n')}\n`;
}

/**
 * The chain of steps that decided when the job ended: start from the step that ended last, then
 * repeatedly step back to the need (or, without needs, the step) that ended last before it started.
 */
function criticalPath(spans: readonly Span[], needs?: Readonly<Record<string, readonly string[]>>): Set<string> {
  const byId = new Map(spans.map((s) => [s.id, s]));
  const path = new Set<string>();
  let current = spans.reduce<Span | undefined>((last, s) => (last === undefined || s.end > last.end || (s.end === last.end && s.end - s.start > last.end - last.start) ? s : last), undefined);
  // A small tolerance: a step starts a few ms after the one it waited for ended.
  const slack = Math.max(5, (current?.end ?? 0) * 0.01);
  while (current && !path.has(current.id)) {
    path.add(current.id);
    const from: Span = current;
    const candidates = needs
      ? (needs[from.id] ?? []).map((id) => byId.get(id)).filter((s): s is Span => s !== undefined)
      : spans.filter((s) => s !== from && s.end <= from.start + slack && s.start < from.start);
    current = candidates.reduce<Span | undefined>((best, s) => (best === undefined || s.end > best.end ? s : best), undefined);
  }
  return path;
}

/** The time axis under the bars: a ruler with ticks at round durations, and their labels. */
function axis(total: number, barWidth: number, labelWidth: number, c: ChalkInstance): string[] {
  const step = niceStep(total / Math.max(1, Math.floor(barWidth / 12)));
  const ruler = Array.from({ length: barWidth }, () => '─');
  let labels = '';
  for (let t = 0; t <= total + 1e-9; t += step) {
    const at = Math.min(barWidth - 1, Math.round((t / total) * barWidth));
    if (t > 0) ruler[at] = '┴';
    const text = t === 0 ? '0' : formatDuration(t);
    // The label starts at its tick, except where it would collide with the previous one.
    if (at + 1 >= labels.length + (labels.length > 0 ? 1 : 0) && at + 1 + text.length <= barWidth + 2) labels = labels.padEnd(at + 1) + text;
  }
  const pad = ' '.repeat(labelWidth);
  return [c.dim(`${pad}└${ruler.join('')}┘`), c.dim(`${pad}${labels}`)];
}

/** A round interval (1, 2 or 5 times a power of ten, in ms) near `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const k of [1, 2, 5, 10]) if (raw <= k * power) return k * power;
  return 10 * power;
}

