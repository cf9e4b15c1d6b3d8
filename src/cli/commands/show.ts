import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { OrchestratorError } from '../../errors.js';
import type { RunEvent } from '../../events/types.js';
import { formatDuration } from '../../specfile/duration.js';
import { readStepShapes } from '../../store/spec-copy.js';
import { readJournal } from '../../store/journal.js';
import { readLogLines } from '../../store/log-tail.js';
import type { JobManifest, StepRecord } from '../../store/manifest.js';
import { filesOfUnfinishedJob, readManifest, resolveJob } from '../../store/runs.js';
import { explainStep } from '../../store/why.js';
import { didYouMean } from '../../util/suggest.js';
import { runsDirOf } from '../options.js';
import { colorsFor, paintStatus } from '../render/color.js';
import { countsText, listedInstances } from '../render/instances.js';
import { PlainRenderer } from '../render/plain.js';
import { assertLogIsFile, catchStopSignals, followLog } from './follow-log.js';
import { table } from '../render/table.js';
import { renderTimeline } from '../render/timeline.js';
import { showCommandFor } from '../render/hint.js';
import { timeoutLabel } from '../render/timeout-label.js';
import { plural, toPrintable } from '../render/units.js';
import { specOfJob } from '../job-spec.js';


/** Options of `orchestrator show`. */
export interface ShowOptions {
  events?: boolean;
  files?: boolean;
  logs?: string;
  /** With `logs`: only the last lines. */
  tail?: number;
  /** With `logs`: keep printing a running step's log until it ends. */
  follow?: boolean;
  json?: boolean;
  timeline?: boolean;
  /** A step: hit or miss, and what changed since its last run (SPEC §11). */
  why?: string;
  runsDir?: string;
}

/** Each step's `needs`, from the spec copy in the run folder; undefined when it cannot be read. */
function specNeeds(dir: string): Record<string, string[]> | undefined {
  try {
    return Object.fromEntries([...readStepShapes(dir)].map(([id, s]) => [id, s.needs]));
  } catch (e) {
    if (e instanceof OrchestratorError) return undefined;
    throw e;
  }
}

/** Each step's time limit, from the spec copy in the run folder; undefined when that no longer checks. */
function timeoutsOf(runsDir: string, jobId: string, specPath: string): Map<string, string> | undefined {
  let spec;
  try {
    spec = specOfJob(runsDir, jobId, specPath);
  } catch (e) {
    if (e instanceof OrchestratorError) return undefined;
    throw e;
  }
  return new Map(spec.steps.map((s) => [s.id, timeoutLabel(s, spec)]));
}

/** `orchestrator show <job>`: summary, events, files, logs, or JSON. */
export async function showCommand(ref: string, opts: ShowOptions): Promise<number> {
  const runsDir = runsDirOf(opts);
  const jobId = resolveJob(runsDir, ref);
  const dir = path.join(runsDir, jobId);
  const m = readManifest(runsDir, jobId);
  if (m.damaged) process.stderr.write(`warning: ${m.damaged}; showing what events.jsonl recorded\n`);
  const readEvents = (): RunEvent[] => {
    try {
      return readJournal(path.join(dir, 'events.jsonl'));
    } catch (e) {
      throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${path.join(dir, 'events.jsonl')}: ${(e as Error).message}` });
    }
  };
  // A job that never finished has no file list yet: compute it now, so --files still tells the truth.
  if ((m.damaged || (m.status !== 'succeeded' && m.status !== 'failed' && m.status !== 'cancelled')) && m.files.length === 0) {
    m.files = filesOfUnfinishedJob(dir);
  }

  if (opts.why !== undefined) {
    if (!Object.hasOwn(m.steps, opts.why)) throw new OrchestratorError({ code: 'usage', message: `job ${m.job_id} has no step "${opts.why}"${didYouMean(opts.why, Object.keys(m.steps))}` });
    const report = explainStep(runsDir, jobId, opts.why);
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`${opts.why}: ${report.summary}\n${report.cache_key ? `key ${report.cache_key}\n` : ''}`);
    return 0;
  }
  if (opts.json) {
    // Text only: with --json they were ignored, and a script saw the manifest and exit 0 for a step that has no log.
    const textOnly = opts.logs !== undefined ? '--logs' : opts.tail !== undefined ? '--tail' : opts.follow ? '--follow' : opts.timeline ? '--timeline' : undefined;
    if (textOnly) {
      const instead = textOnly === '--timeline' ? "show --json has each step's started_at and finished_at" : "show --json lists each log's path, size and SHA-256 in files; read it from the run folder";
      throw new OrchestratorError({ code: 'usage', message: `${textOnly} prints text and has no --json form: ${instead}` });
    }
    const doc = opts.events ? { ...m, events: readEvents() } : m;
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  const out = process.stdout;
  const c = colorsFor(out);
  if (opts.logs !== undefined) return showLog({ out, dir, manifest: m, step: opts.logs, tail: opts.tail, follow: opts.follow ?? false });
  if (opts.tail !== undefined || opts.follow) throw new OrchestratorError({ code: 'usage', message: `--${opts.follow ? 'follow' : 'tail'} goes with --logs <step>` });
  if (opts.timeline) {
    const needs = specNeeds(dir);
    out.write(renderTimeline(m, { width: out.columns ?? 100, colors: c, needs }));
    if (!needs) out.write(c.dim('(the spec copy in inputs/ is unreadable: the critical path is inferred from timing alone)\n'));
    return 0;
  }
  if (opts.events) {
    const renderer = new PlainRenderer(out, c, Object.keys(m.steps));
    for (const e of readEvents()) renderer.emit(e);
    return 0;
  }
  if (opts.files) {
    const rows = m.files.map((f) => [f.path, String(f.size_bytes), f.sha256]);
    out.write(`${table(['PATH', 'BYTES', 'SHA-256'], rows)}\n`);
    return 0;
  }
  const took = m.duration_s === null ? '' : ` in ${formatDuration(m.duration_s * 1000)}`;
  const header = [
    `${c.bold(toPrintable(m.name))}  ${m.job_id}  ${paintStatus(c, m.status)}${took}`,
    c.dim(`started ${m.started_at}   spec ${m.spec.path}   concurrency ${m.concurrency}`),
  ];
  if (m.resumed_from) header.push(c.dim(`resumed from ${m.resumed_from}`));
  if (m.rerun_of) header.push(c.dim(`re-run of ${m.rerun_of}`));
  const timeouts = timeoutsOf(runsDir, jobId, m.spec.path);
  const row = (id: string, s: StepRecord, shownId: string) => [
    shownId,
    paintStatus(c, s.status) + (s.reused ? c.dim(' (reused)') : s.cached ? c.dim(' (cached)') : s.instance_counts ? c.dim(` (${countsText(s.instance_counts)})`) : ''),
    (s.instances && s.attempts === 0 ? '-' : String(s.attempts)) + (s.workers ? c.dim(` (${Object.values(s.workers).join(', ')})`) : ''),
    s.duration_s === null ? '-' : formatDuration(s.duration_s * 1000),
    timeouts?.get(s.instance_of ?? id) ?? '-',
    s.exit_code === null ? '-' : String(s.exit_code),
    s.error ? `${s.error.code}: ${toPrintable(s.error.message)}` : '',
  ];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const [id, s] of Object.entries(m.steps)) {
    if (s.instance_of !== undefined) continue; // listed under their fanned step
    rows.push(row(id, s, id));
    const instances = s.instances ?? [];
    const listed = listedInstances(m, instances);
    for (const x of listed) {
      const r = m.steps[x];
      if (r) rows.push(row(x, r, `  ${x}${r.label !== undefined ? c.dim(` (${toPrintable(r.label)})`) : ''}`));
    }
    if (listed.length < instances.length) notes.push(c.dim(`${id}: ${plural(instances.length - listed.length, 'more instance', 'more instances')} succeeded (show --json lists every one)`));
  }
  out.write(`${header.join('\n')}\n\n${table(['STEP', 'STATUS', 'ATTEMPTS', 'TOOK', 'TIMEOUT', 'EXIT', 'ERROR'], rows)}\n${notes.map((n) => `${n}\n`).join('')}`);
  return 0;
}

/** Every file the journal's settle events recorded (the manifest's files[] exists only once a job ended). */
function recordedFiles(dir: string): Set<string> {
  try {
    return new Set(readJournal(path.join(dir, 'events.jsonl')).flatMap((e) => ('files' in e && e.files ? e.files.map((f) => f.path) : [])));
  } catch {
    return new Set(); // unreadable: the summary names that; here it only means no file is known to be missing
  }
}

/** Instances `--logs <fanned step>` names. */
const INSTANCES_NAMED = 3;

/**
 * What `--logs <fanned step>` says: the step ran as its instances and has no log of its own; a few instances that
 * have one (those that did not succeed first, as `show` lists them), how many have one, and the command for the first.
 */
function fannedStepLogs(o: { dir: string; manifest: JobManifest; step: string; instances: readonly string[] }): string {
  const { manifest: m, step } = o;
  if (o.instances.length === 0) return `step "${step}" is fanned out and has no instances, so no logs`;
  const logged = o.instances.filter((x) => fs.existsSync(path.join(o.dir, 'logs', `${x}.log`)));
  if (logged.length === 0) return `step "${step}" is fanned out: its instances have the logs, but none of its ${plural(o.instances.length, 'instance', 'instances')} has written one`;
  const ordered = [...logged.filter((x) => m.steps[x]?.status !== 'succeeded'), ...logged.filter((x) => m.steps[x]?.status === 'succeeded')];
  const named = `${ordered.slice(0, INSTANCES_NAMED).join(', ')},${ordered.length > INSTANCES_NAMED ? ' …' : ''} ${ordered.length} in all`;
  return `step "${step}" is fanned out: its instances have the logs (${named}): ${showCommandFor(m.job_id, o.dir)} --logs ${ordered[0]}`;
}

/** `show <job> --logs <step> [--tail N] [--follow]`: the log whole or its end, then, while the step runs, what it adds. */
async function showLog(o: { out: NodeJS.WriteStream; dir: string; manifest: JobManifest; step: string; tail?: number; follow: boolean }): Promise<number> {
  const { out, manifest: m, step } = o;
  if (!Object.hasOwn(m.steps, step)) {
    throw new OrchestratorError({ code: 'usage', message: `job ${m.job_id} has no step "${step}"${didYouMean(step, Object.keys(m.steps))}` });
  }
  const instances = m.steps[step]!.instances;
  if (instances !== undefined) throw new OrchestratorError({ code: 'usage', message: fannedStepLogs({ dir: o.dir, manifest: m, step, instances }) });
  const file = path.join(o.dir, 'logs', `${step}.log`);
  assertLogIsFile(file);
  const stop = o.follow && m.status === 'running' ? catchStopSignals() : undefined;
  try {
    let from = 0;
    if (o.tail !== undefined) {
      const log = readLogLines(file, { lines: o.tail });
      if (log && log.tail.length > 0) out.write(`${log.tail.join('\n')}\n`);
      from = log?.end ?? 0;
    } else if (fs.existsSync(file)) {
      from = fs.statSync(file).size;
      await pipeline(fs.createReadStream(file, { end: Math.max(0, from - 1) }), out, { end: false });
    }
    if (stop) {
      const ended = await followLog({ out, dir: o.dir, manifest: m, step, from, stop });
      if (ended === 'signal') return 130;
      if (ended === 'interrupted') process.stderr.write(`the job's process is gone (interrupted): ${step} will write no more\n`);
    }
  } finally {
    stop?.release();
  }
  if (!fs.existsSync(file)) {
    const rel = `logs/${step}.log`;
    if (recordedFiles(o.dir).has(rel)) {
      process.stderr.write(`warning: ${file} is missing: the run recorded it when ${step} settled\n`);
      return 0;
    }
    const st = readManifest(path.dirname(o.dir), m.job_id).steps[step]!;
    const why = st.attempts > 0 && st.status !== 'skipped' ? 'it printed nothing' : `it is ${st.status}`;
    out.write(`step "${step}" has no log (${why})\n`);
  }
  return 0;
}
