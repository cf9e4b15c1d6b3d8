// The job as Markdown for a CI page (GitHub's job summary, `--summary FILE`): status, a table of steps, the DAG
// coloured by status, the failed steps with the end of their logs, and how to look at the run locally.
import fs from 'node:fs';
import path from 'node:path';
import { cleanLogText } from '../../report/escape.js';
import { formatDuration } from '../../specfile/duration.js';
import type { StepSpec } from '../../specfile/model.js';
import { readLogLines, type LogLines } from '../../store/log-tail.js';
import type { JobManifest, StepRecord } from '../../store/manifest.js';
import { makeFolder } from '../../util/make-folder.js';
import { renderMermaidLines } from './graph-mermaid.js';
import { showCommandFor } from './hint.js';
import { countsText, instanceName } from './instances.js';
import { byteSize, escapeMarkdown, fencedBlock, fitDocument, type Block } from './markdown.js';
import { plural } from './units.js';

/** GitHub's limit on one step's summary file: past it the summary is not shown at all. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024;
/** GitHub's Mermaid draws at most 500 edges and 50,000 characters; past these the chart is left out. */
const MERMAID_MAX_EDGES = 500;
const MERMAID_MAX_CHARS = 50_000;
/** Steps the table lists at most (a fanned step is one); more are counted. */
const TABLE_ROWS = 200;
/** A quoted log line is cut here. */
const LINE_CHARS = 500;
/** Failed steps quoted with their logs (and instances of one fanned step); more are counted. */
const FAILED_SHOWN = 20;
const INSTANCES_QUOTED = 3;

const MARK: Record<StepRecord['status'], string> = { succeeded: '✅', failed: '❌', skipped: '⏭️', cancelled: '⏹️', pending: '⏸️', running: '🔄', interrupted: '⚠️' };

/** Mermaid classes by status (GitHub's own palette for success, failure, neutral and done). */
const CLASS_DEFS = [
  'classDef succeeded fill:#dafbe1,stroke:#1a7f37,color:#0f5323',
  'classDef failed fill:#ffebe9,stroke:#cf222e,color:#82071e',
  'classDef skipped fill:#f6f8fa,stroke:#8c959f,color:#57606a,stroke-dasharray:4 3',
  'classDef cancelled fill:#fbefff,stroke:#8250df,color:#512a97',
  'classDef unfinished fill:#fff8c5,stroke:#9a6700,color:#4d2d00',
];

/** What the summary is about. */
export interface JobSummaryInput {
  manifest: JobManifest;
  /** The spec's steps, for the graph's edges. */
  steps: readonly StepSpec[];
  runDir: string;
  /** Log lines quoted per failed step. */
  tail: number;
  /** Bytes the summary may take (GitHub's 1 MiB less what the file already holds). */
  limit: number;
}

/** The Markdown summary within `limit` bytes (cut with a note when longer); undefined when not even its frame fits. */
export function renderJobSummary(o: JobSummaryInput): string | undefined {
  const m = o.manifest;
  const show = showCommandFor(m.job_id, o.runDir);
  return fitDocument({
    head: renderHead(m),
    blocks: [...renderTable(m), ...renderGraph(m, o.steps), ...renderFailures({ m, runDir: o.runDir, tail: o.tail, show })],
    foot: renderFoot(m, show),
    limit: o.limit,
    note: `\n> [!WARNING]\n> This summary was cut at ${o.limit === SUMMARY_LIMIT_BYTES ? '1 MiB' : `${o.limit} bytes`} (GitHub shows no step summary over 1 MiB): the rest is left out. The run folder has all of it.\n`,
  });
}

/** Append the summary to `file` (made if missing), within GitHub's 1 MiB for the whole file; false when no room was left. */
export function appendJobSummary(file: string, input: Omit<JobSummaryInput, 'limit'>): boolean {
  let existing = 0;
  try {
    existing = fs.statSync(file).size;
  } catch (e) {
    // Missing, or a file where one of its folders should be: said by makeFolder below.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
  }
  // Below what the file holds, after a blank line, so that its Markdown ends before ours starts.
  const gap = existing === 0 ? '' : lastByte(file, existing) === 0x0a ? '\n' : '\n\n';
  const text = renderJobSummary({ ...input, limit: SUMMARY_LIMIT_BYTES - existing - gap.length });
  if (text === undefined) return false;
  makeFolder(path.dirname(path.resolve(file)));
  fs.appendFileSync(file, gap + text);
  return true;
}

/** The last byte of a file of `size` bytes. */
function lastByte(file: string, size: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, size - 1);
    return b[0]!;
  } finally {
    fs.closeSync(fd);
  }
}

function renderHead(m: JobManifest): string {
  const records = Object.values(m.steps).filter((s) => s.instance_of === undefined);
  const counts = (['succeeded', 'failed', 'skipped', 'cancelled'] as const).map((s) => [s, records.filter((r) => r.status === s).length] as const);
  const took = m.duration_s === null ? '' : ` in ${formatDuration(m.duration_s * 1000)}`;
  const parts = counts.filter(([s, n]) => n > 0 || s === 'succeeded' || s === 'failed').map(([s, n]) => `${n} ${s}`);
  const from = m.resumed_from ? ` · resuming \`${m.resumed_from}\`` : m.rerun_of ? ` · re-running \`${m.rerun_of}\`` : '';
  const error = m.error ? `\n\n**${escapeMarkdown(m.error.code)}**: ${escapeMarkdown(m.error.message)}` : '';
  return `## ${MARK[m.status]} ${escapeMarkdown(m.name)} ${m.status}${took}\n\nJob \`${m.job_id}\` · ${plural(records.length, 'step', 'steps')}: ${parts.join(', ')} · concurrency ${m.concurrency}${from}${error}\n`;
}

/**
 * One table row per step; a fanned step is one row with its instances counted. Past TABLE_ROWS steps, those that
 * did not succeed are listed first, then succeeded ones while rows are left, in spec order; the rest are counted.
 */
function renderTable(m: JobManifest): string[] {
  const steps = Object.entries(m.steps).filter(([, s]) => s.instance_of === undefined);
  const kept = new Set(steps.filter(([, s]) => s.status !== 'succeeded').slice(0, TABLE_ROWS).map(([id]) => id));
  for (const [id] of steps) if (kept.size < TABLE_ROWS) kept.add(id);
  const rows = steps
    .filter(([id]) => kept.has(id))
    .map(([id, s]) => {
      const instances = (s.instances ?? []).flatMap((i) => (Object.hasOwn(m.steps, i) ? [m.steps[i]!] : []));
      const status = `${MARK[s.status]} ${s.status}${s.instance_counts ? ` (${countsText(s.instance_counts)})` : ''}`;
      const name = s.instances ? `${id} ×${s.instances.length}` : id;
      const duration = s.duration_s === null ? '' : formatDuration(s.duration_s * 1000);
      const attempts = s.instances || s.attempts === 0 ? '' : String(s.attempts);
      return `| ${escapeMarkdown(name)} | ${status} | ${duration} | ${attempts} | ${reuseText(s, instances)} |\n`;
    });
  if (rows.length === 0) return [];
  const left = new Map<string, number>();
  for (const [id, s] of steps) if (!kept.has(id)) left.set(s.status, (left.get(s.status) ?? 0) + 1);
  if (left.size > 0) rows.push(`| … ${steps.length - kept.size} more | ${[...left].map(([st, n]) => `${n} ${st}`).join(', ')} |  |  |  |\n`);
  return [`\n| step | status | duration | attempts | cached / reused |\n| --- | --- | --- | --- | --- |\n${rows[0]}`, ...rows.slice(1)];
}

/** `cached`, `reused`, or for a fanned step how many of its instances were. */
function reuseText(s: StepRecord, instances: StepRecord[]): string {
  if (!s.instances) return s.reused ? 'reused' : s.cached ? 'cached' : '';
  const cached = instances.filter((i) => i.cached && !i.reused).length;
  const reused = instances.filter((i) => i.reused).length;
  return [cached > 0 ? `${cached} cached` : '', reused > 0 ? `${reused} reused` : ''].filter(Boolean).join(', ');
}

/** The DAG as Mermaid, each step coloured by its status; left out (with a note) when GitHub could not draw it. */
function renderGraph(m: JobManifest, steps: readonly StepSpec[]): string[] {
  const edges = steps.reduce((n, s) => n + s.needs.length, 0);
  const status = (s: StepSpec) => (Object.hasOwn(m.steps, s.id) ? m.steps[s.id]!.status : 'pending');
  const lines = renderMermaidLines(steps, {
    label: (s) => {
      const r = m.steps[s.id];
      return r?.instances ? `${s.id} ×${r.instances.length}` : s.id;
    },
    classOf: (s) => {
      const st = status(s);
      return st === 'succeeded' || st === 'failed' || st === 'skipped' || st === 'cancelled' ? st : 'unfinished';
    },
  });
  const chart = fencedBlock('mermaid', [...lines, ...CLASS_DEFS.map((d) => `  ${d}`)]);
  if (edges > MERMAID_MAX_EDGES || chart.length > MERMAID_MAX_CHARS) {
    return [`\n_The graph is left out: ${steps.length} steps and ${edges} edges are more than GitHub draws. \`orchestrator report\` draws it._\n`];
  }
  return [`\n${chart}`];
}

/** Each failed step's error, and its log's end in a collapsed block; a fanned step's first few instances. */
function renderFailures({ m, runDir, tail, show }: { m: JobManifest; runDir: string; tail: number; show: string }): Block[] {
  const seen = new Map<string, number>();
  const quoted = Object.entries(m.steps).filter(([, s]) => {
    if (s.status !== 'failed') return false;
    if (s.instance_of === undefined) return true;
    const n = (seen.get(s.instance_of) ?? 0) + 1;
    seen.set(s.instance_of, n);
    return n <= INSTANCES_QUOTED;
  });
  if (quoted.length === 0) return [];
  const blocks: Block[] = ['\n### Failed steps\n'];
  for (const [id, s] of quoted.slice(0, FAILED_SHOWN)) {
    const name = s.instance_of !== undefined && s.label !== undefined ? instanceName(s.instance_of, s.label) : id;
    const attempts = s.attempts > 1 ? ` (after ${s.attempts} attempts)` : '';
    blocks.push(`\n**❌ ${escapeMarkdown(name)}**: ${escapeMarkdown(`${s.error?.code ?? 'failed'}: ${s.error?.message ?? ''}`)}${attempts}\n`);
    const log = renderLog(path.join(runDir, 'logs', `${id}.log`), tail, s.attempts);
    if (log !== undefined) blocks.push(log);
  }
  // Those past FAILED_SHOWN, and a fanned step's instances past INSTANCES_QUOTED (also when fewer than FAILED_SHOWN are shown).
  const more = Math.max(0, quoted.length - FAILED_SHOWN) + [...seen.values()].reduce((n, c) => n + Math.max(0, c - INSTANCES_QUOTED), 0);
  if (more > 0) blocks.push(`\n… and ${more} more failed: \`${show}\` lists them all.\n`);
  return blocks;
}

/**
 * The end of a log in a `<details>` block: the lines above that look like failures, then its last lines. Short of
 * room, it keeps the last lines that fit.
 */
function renderLog(file: string, tail: number, attempts: number): Block | undefined {
  let log: LogLines | undefined;
  try {
    log = readLogLines(file, { lines: tail, lineChars: LINE_CHARS, lastAttempt: attempts }); // after retries, the last attempt's
  } catch (e) {
    return `\n_Its log ${escapeMarkdown(file)} cannot be read: ${escapeMarkdown((e as Error).message)}_\n`;
  }
  if (!log || log.tail.length === 0) return undefined;
  // A lone CR would let a log line start over inside the block; colours and control characters are noise here.
  const clean = (lines: string[]) => lines.map((l) => cleanLogText(l).replaceAll('\r', ''));
  const above = log.failures.length > 0 ? clean(['… lines above that look like failures:', ...log.failures, '…']) : [];
  const lines = clean(log.tail);
  const render = (from: number) => `\n<details><summary>last ${plural(lines.length - from, 'line', 'lines')} of its log${log.lastAttemptOnly ? ` (attempt ${attempts} of ${attempts})` : ''}</summary>\n\n${fencedBlock('text', [...(from === 0 ? above : []), ...lines.slice(from)])}\n</details>\n`;
  return (room) => {
    const whole = render(0);
    if (byteSize(whole) <= room) return whole;
    // Drop lines from the top until the rest fits: sizes summed from the end, one pass.
    const frame = byteSize(render(lines.length)) + 16; // the block without lines, and room for a longer fence and count
    let from = lines.length;
    for (let used = frame; from > 0 && used + byteSize(lines[from - 1]!) + 1 <= room; from--) used += byteSize(lines[from - 1]!) + 1;
    return from < lines.length ? render(from) : undefined;
  };
}

function renderFoot(m: JobManifest, show: string): string {
  const report = show.replace(/^orchestrator show/, 'orchestrator report');
  return `\n### Look at this run locally\n\nWith its run folder \`${m.job_id}\` at hand (the orchestrator action uploads it as an artifact):\n\n${fencedBlock('sh', [show, `${show} --logs <step>`, report])}`;
}
