import type { RunEvent } from '../events/types.js';
import { formatDuration } from '../specfile/duration.js';
import type { JobManifest } from '../store/manifest.js';
import { escapeHtml as esc, truncate } from './escape.js';
import { INSTANCE_ROWS_MAX, statusIcon, timeOf, type ReportStep } from './model.js';

/** One attempt of a step on the time axis, in ms since the epoch. */
export interface AttemptSpan {
  attempt: number;
  start: number;
  end: number;
  /** False for an attempt that was retried. */
  isLast: boolean;
  /** The worker that ran it (runs with --workers). */
  worker?: string;
}

/** A step's attempts, read from the journal; `at` marks a step that took no time (reused, skipped). */
export interface StepTimeline {
  spans: AttemptSpan[];
  at?: number;
}

/** Each step's attempts from the events; an attempt still open at the end runs to `openEnd`. */
export function stepTimelines(events: readonly RunEvent[], openEnd: number): Map<string, StepTimeline> {
  const out = new Map<string, StepTimeline>();
  const open = new Map<string, { attempt: number; start: number; worker?: string }>();
  const close = (step: string, end: number, isLast: boolean) => {
    const o = open.get(step);
    if (!o) return;
    open.delete(step);
    out.get(step)!.spans.push({ attempt: o.attempt, start: o.start, end: Math.max(o.start, end), isLast, ...(o.worker ? { worker: o.worker } : {}) });
  };
  for (const e of events) {
    if (!('step' in e)) continue;
    const t = timeOf(e.ts);
    if (t === undefined) continue;
    const tl = out.get(e.step) ?? { spans: [] };
    out.set(e.step, tl);
    switch (e.type) {
      case 'step.started':
        if (open.get(e.step)?.attempt === e.attempt) open.get(e.step)!.start = t;
        else {
          close(e.step, t, false);
          open.set(e.step, { attempt: e.attempt, start: t });
        }
        break;
      case 'step.expanded':
        // A fanned step spans from its expansion until its last instance settles.
        open.set(e.step, { attempt: 1, start: t });
        break;
      case 'step.retrying':
        // Emitted when an attempt failed; the next attempt (`e.attempt`) starts after the delay.
        close(e.step, t, false);
        open.set(e.step, { attempt: e.attempt, start: t + e.delay_s * 1000 });
        break;
      case 'step.worker': {
        const o = open.get(e.step);
        if (o?.attempt === e.attempt) o.worker = e.worker;
        break;
      }
      case 'step.succeeded':
      case 'step.failed':
      case 'step.cancelled':
      case 'step.skipped':
        if (open.has(e.step)) close(e.step, t, true);
        else tl.at = t;
        break;
      default: {
        const _x: never = e;
        void _x;
      }
    }
  }
  for (const step of [...open.keys()]) close(step, openEnd, true);
  return out;
}

/** A tick step of 1, 2 or 5 times a power of ten giving at most ~`count` ticks. */
export function tickStep(totalMs: number, count = 6): number {
  const raw = Math.max(totalMs, 1) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
}

function tickLabel(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(2)}s`;
  return formatDuration(ms);
}

const WIDTH = 960;
const LABEL_W = 180;
const RIGHT_W = 76;
const AXIS_H = 26;
const ROW_H = 28;
const BAR_H = 16;


/** What the chart draws, row by row: a step (or instance), or one lane of a fanned step's packed instances. */
type ChartRow = { step: ReportStep } | { lane: Lane; of: string; index: number; count: number };

/** Instance attempts packed into one lane of a fanned step, as bars: neighbours closer than a pixel are one bar. */
interface Lane {
  end: number;
  bars: LaneBar[];
}

interface LaneBar {
  start: number;
  end: number;
  cls: string;
  first: string;
  last: string;
  count: number;
}

/**
 * The chart's rows: each step and instance its own, except that the instances of a fanned step with more than
 * INSTANCE_ROWS_MAX of them are packed into as many lanes as ran at once (first free lane, by start), where the
 * first instance would have been. Reused and skipped instances, which took no time, are points on their lane. A
 * lane holds at most a bar a pixel (runs of one status merged), so the chart stays the size of the picture: a
 * fan-out of 10,000 instances drew a 280,000-pixel-tall chart of 5 MB.
 */
function chartRows(steps: readonly ReportStep[], m: JobManifest, timelines: Map<string, StepTimeline>, msPerPx: number): ChartRow[] {
  const count = new Map<string, number>();
  for (const s of steps) if (s.instanceOf !== undefined) count.set(s.instanceOf, (count.get(s.instanceOf) ?? 0) + 1);
  const packed = new Map<string, { start: number; end: number; cls: string; id: string }[]>();
  const rows: ChartRow[] = [];
  for (const s of steps) {
    const of = s.instanceOf;
    if (of === undefined || count.get(of)! <= INSTANCE_ROWS_MAX) {
      rows.push({ step: s });
      continue;
    }
    let spans = packed.get(of);
    if (!spans) packed.set(of, (spans = []));
    const status = m.steps[s.id]?.status ?? 'pending';
    const tl = timelines.get(s.id) ?? { spans: [] };
    for (const span of tl.spans) spans.push({ start: span.start, end: span.end, cls: span.isLast ? `bar status-${status}` : 'bar retried', id: s.id });
    if (tl.spans.length === 0 && tl.at !== undefined) spans.push({ start: tl.at, end: tl.at, cls: `bar status-${status}`, id: s.id });
  }
  for (const [of, spans] of packed) {
    spans.sort((x, y) => x.start - y.start || x.end - y.end);
    const lanes: Lane[] = [];
    for (const sp of spans) {
      let lane = lanes.find((l) => l.end <= sp.start);
      if (!lane) lanes.push((lane = { end: -Infinity, bars: [] }));
      lane.end = Math.max(lane.end, sp.end);
      const bar = lane.bars[lane.bars.length - 1];
      if (bar && bar.cls === sp.cls && sp.start - bar.end < msPerPx) {
        bar.end = Math.max(bar.end, sp.end);
        bar.last = sp.id;
        bar.count++;
      } else lane.bars.push({ start: sp.start, end: sp.end, cls: sp.cls, first: sp.id, last: sp.id, count: 1 });
    }
    const at = rows.findIndex((r) => 'step' in r && r.step.id === of) + 1; // under the fanned step
    rows.splice(at, 0, ...lanes.map((lane, index) => ({ lane, of, index, count: count.get(of)! })));
  }
  return rows;
}

/**
 * The Gantt chart as an inline SVG: a row per step, a bar per attempt on the job's time axis. `now` (ms) is where a
 * job still running ends for now (the UI's live page), else its last event.
 */
export function renderGanttSvg(steps: readonly ReportStep[], m: JobManifest, events: readonly RunEvent[], now?: number): string {
  const lastEvent = timeOf(events[events.length - 1]?.ts);
  const t0 = timeOf(m.started_at) ?? timeOf(events[0]?.ts) ?? 0;
  const jobEnd = timeOf(m.finished_at) ?? (m.status === 'running' ? now : undefined) ?? lastEvent ?? t0;
  const timelines = stepTimelines(events, jobEnd);
  let end = jobEnd;
  for (const tl of timelines.values()) for (const s of tl.spans) end = Math.max(end, s.end);
  const total = Math.max(end - t0, 1);
  const chartW = WIDTH - LABEL_W - RIGHT_W;
  const xOf = (t: number) => LABEL_W + ((t - t0) / total) * chartW;
  const rows = chartRows(steps, m, timelines, total / chartW);
  const height = AXIS_H + rows.length * ROW_H + 6;

  const parts: string[] = rows.map((_, i) => `<rect class="row${i % 2 ? ' odd' : ''}" x="0" y="${AXIS_H + i * ROW_H}" width="${WIDTH}" height="${ROW_H}"/>`);
  const step = tickStep(total);
  for (let ms = 0; ms <= total + 1e-9; ms += step) {
    const x = xOf(t0 + ms).toFixed(1);
    parts.push(`<line class="grid" x1="${x}" y1="${AXIS_H - 4}" x2="${x}" y2="${height}"/><text class="tick" x="${x}" y="${AXIS_H - 10}">${tickLabel(ms)}</text>`);
  }
  rows.forEach((chartRow, i) => {
    const y = AXIS_H + i * ROW_H;
    const mid = y + ROW_H / 2;
    if ('lane' in chartRow) {
      parts.push(laneRow(chartRow, mid, xOf));
      return;
    }
    const s = chartRow.step;
    const r = m.steps[s.id];
    const status = r?.status ?? 'pending';
    const tl = timelines.get(s.id) ?? { spans: [] };
    const row: string[] = [];
    row.push(`<text class="icon status-${status}" x="8" y="${mid + 5}">${statusIcon(status)}</text>`);
    row.push(`<text class="label" x="26" y="${mid + 5}">${esc(truncate(s.id, 20))}</text>`);
    let endX = LABEL_W;
    for (const span of tl.spans) {
      const x = xOf(span.start), w = Math.max(xOf(span.end) - x, 2);
      const cls = span.isLast ? `bar status-${status}` : 'bar retried';
      const took = formatDuration(span.end - span.start);
      row.push(`<rect class="${cls}" data-attempt="${span.attempt}" x="${x.toFixed(1)}" y="${mid - BAR_H / 2}" width="${w.toFixed(1)}" height="${BAR_H}" rx="3"><title>${esc(`${s.id} attempt ${span.attempt}${span.worker ? ` on ${span.worker}` : ''}: ${took}`)}</title></rect>`);
      endX = Math.max(endX, x + w);
    }
    if (tl.spans.length === 0 && tl.at !== undefined) {
      // No attempt ran (reused from an earlier job, or skipped): a tick where it was decided.
      const x = xOf(tl.at);
      row.push(`<path class="mark status-${status}" d="M${x.toFixed(1)} ${mid - 6} l5 6 l-5 6 l-5 -6 z"/>`);
      endX = x + 5;
    }
    const took = r?.duration_s != null && tl.spans.length > 0 ? formatDuration(r.duration_s * 1000) : r?.reused ? 'reused' : status;
    row.push(`<text class="took status-${status}" x="${(endX + 6).toFixed(1)}" y="${mid + 4}">${esc(took)}</text>`);
    parts.push(`<g class="gantt-row" data-step="${esc(s.id)}" data-status="${status}"><title>${esc(`${s.id}: ${status}`)}</title>${row.join('')}</g>`);
  });
  return (
    `<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="timeline">` +
    `${parts.join('')}</svg>`
  );
}

/** One lane of a fanned step's packed instances: the first one names the step and how many instances it has. */
function laneRow(r: { lane: Lane; of: string; index: number; count: number }, mid: number, xOf: (t: number) => number): string {
  const row: string[] = [];
  if (r.index === 0) row.push(`<text class="label" x="26" y="${mid + 5}">${esc(truncate(`${r.of} ×${r.count}`, 20))}</text>`);
  for (const b of r.lane.bars) {
    const x = xOf(b.start), w = Math.max(xOf(b.end) - x, 2);
    const what = b.count === 1 ? `${b.first}: ${formatDuration(b.end - b.start)}` : `${b.count} instances, ${b.first} … ${b.last}: ${formatDuration(b.end - b.start)}`;
    row.push(`<rect class="${b.cls}" data-instances="${b.count}" x="${x.toFixed(1)}" y="${mid - BAR_H / 2}" width="${w.toFixed(1)}" height="${BAR_H}" rx="3"><title>${esc(what)}</title></rect>`);
  }
  return `<g class="gantt-lane" data-step="${esc(r.of)}" data-lane="${r.index + 1}">${row.join('')}</g>`;
}
