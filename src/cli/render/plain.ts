import type { ChalkInstance } from 'chalk';
import type { EventSink, RunEvent } from '../../events/types.js';
import { formatDuration } from '../../specfile/duration.js';
import { statusPaint } from './color.js';
import { countsText, instanceName } from './instances.js';
import { plural, toOneLine, toPrintable } from './units.js';

/** One plain line per event: for pipes, CI logs, and `show --events`. */
export class PlainRenderer implements EventSink {
  readonly #out: NodeJS.WritableStream;
  readonly #c: ChalkInstance;
  readonly #width: number;
  /** Instances of fanned steps, shown by their step and values: `count (chapter-2.txt)`. */
  readonly #names = new Map<string, string>();

  constructor(out: NodeJS.WritableStream, colors: ChalkInstance, stepIds: readonly string[] = []) {
    this.#out = out;
    this.#c = colors;
    this.#width = Math.min(32, Math.max(8, ...stepIds.map((s) => s.length)));
  }

  emit(e: RunEvent): void {
    const line = this.format(e);
    if (line !== undefined) this.#out.write(`${this.#c.dim(e.ts.slice(11, 19))}  ${toOneLine(line.trimEnd())}\n`);
  }

  /** The text of one event, without the time. */
  format(e: RunEvent): string | undefined {
    const c = this.#c;
    const tag = (word: string, paint: (s: string) => string) => paint(word.padEnd(8));
    const id = (s: string) => c.bold((this.#names.get(s) ?? s).padEnd(this.#width));
    const dur = (s: number | undefined | null) => (s === undefined || s === null ? '' : formatDuration(s * 1000));
    switch (e.type) {
      case 'job.started':
        return `${tag('job', c.cyan)}${c.bold(toPrintable(e.name))}  ${e.job_id}  ${plural(e.steps.length, 'step', 'steps')}, concurrency ${e.concurrency}${e.resumed_from ? `, resuming ${e.resumed_from}` : ''}${e.rerun_of ? `, re-running ${e.rerun_of}` : ''}`;
      case 'step.started':
        return `${tag('start', c.blue)}${id(e.step)}`;
      case 'step.worker':
        return `${tag('worker', c.blue)}${id(e.step)}  ${e.attempt > 1 ? `attempt ${e.attempt} ` : ''}on ${e.worker}`;
      case 'step.expanded':
        for (const x of e.instances) this.#names.set(x.id, instanceName(e.step, x.label));
        return `${tag('expand', c.cyan)}${id(e.step)}  ${e.instances.length} instance${e.instances.length === 1 ? '' : 's'}`;
      case 'step.retrying':
        return `${tag('retry', c.yellow)}${id(e.step)}  attempt ${e.attempt} in ${formatDuration(e.delay_s * 1000)}  ${c.dim(`(${e.error.code}: ${toPrintable(e.error.message)})`)}`;
      case 'step.succeeded': {
        const how = e.reused ? c.dim('  reused') : e.cached ? c.dim('  cached') : e.instances ? c.dim(`  ${countsText(e.instances)}`) : '';
        return `${tag('ok', c.green)}${id(e.step)}  ${dur(e.duration_s)}${e.attempt > 1 ? `  after ${e.attempt} attempts` : ''}${how}`;
      }
      case 'step.failed':
        return `${tag(e.continue_on_error ? 'failed*' : 'FAILED', c.red)}${id(e.step)}  ${dur(e.duration_s)}  ${e.error.code}: ${toPrintable(e.error.message)}${e.continue_on_error ? c.dim('  (continue_on_error)') : ''}${e.instances ? c.dim(`  (${countsText(e.instances)})`) : ''}`;
      case 'step.skipped':
        return `${tag('skip', c.gray)}${id(e.step)}  ${c.dim(toPrintable(e.error.message))}`;
      case 'step.cancelled':
        return `${tag('cancel', c.magenta)}${id(e.step)}  ${c.dim(toPrintable(e.error.message))}`;
      case 'job.finished': {
        const paint = statusPaint(c, e.status);
        return `${tag('job', c.cyan)}${paint(e.status)} in ${dur(e.duration_s)}  ${c.dim(e.job_id)}`;
      }
      default:
        return undefined;
    }
  }
}
