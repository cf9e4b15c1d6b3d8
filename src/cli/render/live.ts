import type { ChalkInstance } from 'chalk';
import { createLogUpdate } from 'log-update';
import type { EventSink, RunEvent } from '../../events/types.js';
import { formatDuration } from '../../specfile/duration.js';
import { stripAnsi } from '../../util/ansi.js';
import { countsText, instanceName } from './instances.js';
import { plural, toPrintable } from './units.js';

/** The terminal a live view draws on: a writable stream with (optionally) its size. */
export interface LiveStream extends NodeJS.WritableStream {
  columns?: number;
  rows?: number;
  isTTY?: boolean;
}

/** Options of the live view. */
export interface LiveRendererOptions {
  out: LiveStream;
  colors: ChalkInstance;
  stepIds: readonly string[];
  /** Least time between two frames, in ms; the elapsed times tick at this rate. Default 100 (10 fps). */
  intervalMs?: number;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
}

export { isLiveTerminal } from './terminal.js';

/** A step that has started and not settled. */
interface Running {
  since: number;
  attempt: number;
  /** Set while waiting to retry: when the next attempt starts. */
  retryAt?: number;
  /** The worker running it (runs with --workers). */
  worker?: string;
}

/** The final statuses the summary line counts. */
type Settled = 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** A fanned step while its instances run: one line with counts, however many instances it has. */
interface Fan {
  total: number;
  running: number;
  counts: Record<Settled, number>;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Live progress on a terminal: a frame with one line per running (and, when they fit, queued) step
 * and a summary line, redrawn in place by log-update at most every `intervalMs`; each step that
 * settles is printed once above the frame, so the scrollback keeps the whole history. A frame costs
 * O(lines shown), not O(steps).
 */
export class LiveRenderer implements EventSink {
  readonly #out: LiveStream;
  readonly #c: ChalkInstance;
  readonly #log: ReturnType<typeof createLogUpdate>;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #idWidth: number;
  /** Steps not started yet, in spec order. */
  readonly #queued = new Set<string>();
  /** Started steps, in start order. */
  readonly #running = new Map<string, Running>();
  readonly #counts: Record<Settled, number> = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
  /** Fanned steps by id, and each instance's step and name. */
  readonly #fans = new Map<string, Fan>();
  readonly #instances = new Map<string, { fan: Fan; name: string }>();
  readonly #instanceNames = new Set<string>();
  /** Lines to print above the frame at the next draw. */
  #history: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #dirty = false;
  #jobStart: number | undefined;
  #closed = false;

  constructor(opts: LiveRendererOptions) {
    this.#out = opts.out;
    this.#c = opts.colors;
    this.#log = createLogUpdate(opts.out);
    this.#interval = opts.intervalMs ?? 100;
    this.#now = opts.now ?? Date.now;
    this.#idWidth = Math.min(32, Math.max(8, ...opts.stepIds.map((s) => s.length)));
    for (const id of opts.stepIds) this.#queued.add(id);
  }

  emit(e: RunEvent): void {
    if (this.#closed) return;
    const c = this.#c;
    const now = this.#now();
    switch (e.type) {
      case 'job.started':
        this.#jobStart = now;
        this.#queued.clear();
        for (const id of e.steps) this.#queued.add(id);
        this.#history.push(`${c.bold(toPrintable(e.name))}  ${c.dim(e.job_id)}  ${plural(e.steps.length, 'step', 'steps')}, concurrency ${e.concurrency}${e.resumed_from ? `, resuming ${e.resumed_from}` : ''}${e.rerun_of ? `, re-running ${e.rerun_of}` : ''}`);
        this.#timer ??= setInterval(() => this.#tick(), this.#interval);
        this.#timer.unref(); // never what keeps the process alive
        break;
      case 'step.expanded': {
        this.#queued.delete(e.step);
        this.#running.set(e.step, { since: now, attempt: 1 });
        const fan: Fan = { total: e.instances.length, running: 0, counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 } };
        this.#fans.set(e.step, fan);
        for (const x of e.instances) {
          const name = instanceName(e.step, x.label);
          this.#instances.set(x.id, { fan, name });
          this.#instanceNames.add(name);
        }
        break;
      }
      case 'step.started': {
        const inst = this.#instances.get(e.step);
        if (inst) {
          if (e.attempt === 1) inst.fan.running++;
          break;
        }
        this.#queued.delete(e.step);
        this.#running.set(e.step, { since: now, attempt: e.attempt });
        break;
      }
      case 'step.worker': {
        const r = this.#running.get(e.step);
        if (r) r.worker = e.worker;
        break;
      }
      case 'step.retrying': {
        const r = this.#running.get(e.step);
        if (r) Object.assign(r, { attempt: e.attempt, retryAt: now + e.delay_s * 1000 });
        this.#history.push(this.#settled('↻', c.yellow, this.#nameOf(e.step), 'retrying', `attempt ${e.attempt - 1} failed (${e.error.code}: ${toPrintable(e.error.message)}); next in ${formatDuration(e.delay_s * 1000)}`));
        break;
      }
      case 'step.succeeded': {
        if (this.#settleInstance(e.step, 'succeeded', e.attempt > 0)) break; // one line per fanned step, not per instance
        this.#settle(e.step, 'succeeded');
        const how = e.reused ? '  reused' : e.cached ? '  cached' : e.instances ? `  ${countsText(e.instances)}` : '';
        this.#history.push(this.#settled('✓', c.green, e.step, 'succeeded', `${formatDuration(e.duration_s * 1000)}${e.attempt > 1 ? `  after ${e.attempt} attempts` : ''}${how}`));
        break;
      }
      case 'step.failed':
        if (!this.#settleInstance(e.step, 'failed', e.attempt > 0)) this.#settle(e.step, 'failed');
        this.#history.push(this.#settled('✗', c.red, this.#nameOf(e.step), 'failed', `${formatDuration(e.duration_s * 1000)}  ${e.error.code}: ${toPrintable(e.error.message)}${e.continue_on_error ? '  (continue_on_error)' : ''}`));
        break;
      case 'step.skipped':
        if (this.#settleInstance(e.step, 'skipped', false)) break;
        this.#settle(e.step, 'skipped');
        this.#history.push(this.#settled('↷', c.gray, e.step, 'skipped', toPrintable(e.error.message)));
        break;
      case 'step.cancelled':
        if (this.#settleInstance(e.step, 'cancelled', e.attempt !== undefined)) break;
        this.#settle(e.step, 'cancelled');
        this.#history.push(this.#settled('■', c.magenta, e.step, 'cancelled', toPrintable(e.error.message)));
        break;
      case 'job.finished':
        this.close();
        return;
      default:
        return; // event types this view does not know
    }
    this.#dirty = true;
    if (now - this.#lastDraw >= this.#interval) this.#draw();
  }

  /** Print a message above the frame now (text written past log-update would leave stale frame lines behind). */
  print(line: string): void {
    if (this.#closed) {
      this.#out.write(`${line}\n`);
      return;
    }
    this.#history.push(line);
    this.#draw();
  }

  /** Print what is pending above the frame, remove the frame and stop the clock. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#flushHistory();
    this.#log.clear();
    this.#log.done();
  }

  #tick(): void {
    if (this.#dirty || this.#running.size > 0) this.#draw();
  }

  /** An instance settled: counted on its fanned step's line; false when `step` is no instance. */
  #settleInstance(step: string, status: Settled, started: boolean): boolean {
    const inst = this.#instances.get(step);
    if (!inst) return false;
    if (started) inst.fan.running--;
    inst.fan.counts[status]++;
    this.#counts[status]++;
    return true;
  }

  #nameOf(step: string): string {
    return this.#instances.get(step)?.name ?? step;
  }

  #settle(step: string, status: Settled): void {
    this.#queued.delete(step);
    this.#running.delete(step);
    this.#counts[status]++;
  }

  #draw(): void {
    const now = this.#now();
    this.#lastDraw = now;
    this.#dirty = false;
    this.#flushHistory();
    this.#log(this.frame(now).join('\n'));
  }

  /** Print the queued history lines above the frame, in chunks: log-update cuts what is taller than the terminal. */
  #flushHistory(): void {
    const chunk = Math.max(1, (this.#out.rows ?? 24) - 1);
    for (let i = 0; i < this.#history.length; i += chunk) this.#log.persist(this.#history.slice(i, i + chunk).join('\n'));
    this.#history = [];
  }

  /** The live area at `now`: running steps, queued ones when they fit, and the summary line. */
  frame(now: number = this.#now()): string[] {
    const c = this.#c;
    const width = Math.max(20, (this.#out.columns ?? 80) - 1);
    // Lines above the summary: the terminal's height less one for the summary and one for the cursor.
    const room = Math.max(3, (this.#out.rows ?? 24) - 2);
    const lines: string[] = [];
    const spin = SPINNER[Math.floor(now / 100) % SPINNER.length]!;
    const runningRoom = room - (this.#queued.size > 0 ? 1 : 0); // keep a line to say what is queued
    const runningShown = this.#running.size <= runningRoom ? this.#running.size : runningRoom - 1;
    for (const [id, r] of this.#running) {
      if (lines.length >= runningShown) break;
      const attempt = r.attempt > 1 ? `  attempt ${r.attempt}` : '';
      const note = r.retryAt !== undefined && r.retryAt > now ? `  retrying in ${formatDuration(r.retryAt - now)}` : '';
      const fan = this.#fans.get(id);
      const detail = fan ? `  ${fanProgress(fan)}` : `${attempt}${r.worker ? `  on ${r.worker}` : ''}${note}`;
      lines.push(this.#line(c.blue(spin), id, c.blue('running'), `${formatDuration(now - r.since)}${detail}`, width));
    }
    if (runningShown < this.#running.size) lines.push(c.dim(`  … ${this.#running.size - runningShown} more running`));
    const left = room - lines.length;
    if (this.#queued.size > 0 && this.#queued.size <= left) {
      for (const id of this.#queued) lines.push(this.#line(c.dim('·'), id, c.dim('queued'), '', width));
    } else if (this.#queued.size > 0) {
      lines.push(c.dim(`  … ${this.#queued.size} queued`));
    }
    const n = this.#counts;
    // Instances count one by one, as they do in `done`; a fanned step's own line does not count.
    let running = 0;
    let waiting = 0; // instances of the fanned steps now running that have not started
    for (const id of this.#running.keys()) {
      const fan = this.#fans.get(id);
      running += fan?.running ?? 1;
      if (fan) waiting += fan.total - fan.running - Object.values(fan.counts).reduce((a, b) => a + b, 0);
    }
    const parts: [string, (s: string) => string][] = [
      [`${n.succeeded} done`, c.green],
      [`${running} running`, c.blue],
      [`${this.#queued.size + waiting} queued`, (s) => s],
      [`${n.failed} failed`, n.failed > 0 ? c.red : (s) => s],
    ];
    if (n.skipped > 0) parts.push([`${n.skipped} skipped`, c.gray]);
    if (n.cancelled > 0) parts.push([`${n.cancelled} cancelled`, c.magenta]);
    if (this.#jobStart !== undefined) parts.push([formatDuration(now - this.#jobStart), c.dim]);
    // The summary keeps as many parts as fit the width, most important first.
    let summary = '';
    let used = 0;
    for (const [i, [text, paint]] of parts.entries()) {
      const sep = i === 0 ? '' : i === parts.length - 1 && this.#jobStart !== undefined ? '   ' : ' · ';
      if (used + sep.length + text.length > width) break;
      summary += (sep === ' · ' ? c.dim(sep) : sep) + paint(text);
      used += sep.length + text.length;
    }
    lines.push(summary);
    return lines;
  }

  /** A line for a settled step, printed once above the frame. */
  #settled(mark: string, paint: (s: string) => string, id: string, status: string, detail: string): string {
    const width = Math.max(20, (this.#out.columns ?? 80) - 1);
    // An instance's name (`count (chapter-2.txt)`) gets the room it needs, up to half the line: cut, it says nothing.
    const idWidth = this.#instanceNames.has(id) ? Math.max(this.#idWidth, Math.min(id.length, Math.floor(width / 2))) : this.#idWidth;
    return this.#line(paint(mark), id, paint(status), detail, width, idWidth);
  }

  /** `mark id status detail`, with the id and detail cut so the line fits in `width` columns. */
  #line(mark: string, id: string, status: string, detail: string, width: number, idWidth = this.#idWidth): string {
    const shownId = id.length > idWidth ? `${id.slice(0, idWidth - 1)}…` : id.padEnd(idWidth);
    // 2 (indent) + mark + space + id + 2 + status (padded to 10) + 2
    const used = 2 + 1 + 1 + idWidth + 2 + 10 + 2;
    const statusWord = status + ' '.repeat(Math.max(0, 10 - visibleLength(status)));
    const room = width - used;
    const cut = detail.length > room ? `${detail.slice(0, Math.max(0, room - 1))}…` : detail;
    return `  ${mark} ${this.#c.bold(shownId)}  ${statusWord}  ${this.#c.dim(cut)}`.trimEnd();
  }
}

/** `7/10 done · 2 running · 1 failed`: a fanned step's line. */
function fanProgress(f: Fan): string {
  const n = f.counts;
  const parts = [`${n.succeeded}/${f.total} done`, `${f.running} running`];
  if (n.failed > 0) parts.push(`${n.failed} failed`);
  if (n.cancelled > 0) parts.push(`${n.cancelled} cancelled`);
  return parts.join(' · ');
}

/** Length of a string as the terminal shows it (without colour codes). */
function visibleLength(s: string): number {
  return stripAnsi(s).length;
}
