import { formatDuration } from '../specfile/duration.js';
import type { FileRecord } from '../events/types.js';
import type { JobManifest, StepRecord } from '../store/manifest.js';
import { renderDagSvg } from './dag-svg.js';
import { cleanLogText, escapeHtml as esc } from './escape.js';
import { renderGanttSvg } from './gantt-svg.js';
import { digestFans, INSTANCE_ROWS_MAX, statusIcon, timeOf, type FanDigest, type ReportInput, type ReportStep } from './model.js';
import { REPORT_CSS } from './style.js';
import type { RunEvent } from '../events/types.js';

/** Order of the status counts in the header. */
const STATUSES = ['succeeded', 'failed', 'cancelled', 'skipped', 'running', 'pending', 'interrupted'] as const;

/** Where a page that embeds the report links a step's live log (the UI); the report itself has none. */
export interface ReportLinks {
  liveLog?: (step: string) => string;
}

/**
 * The whole report as one self-contained HTML page: inline CSS and SVG, no script, no request to anything.
 * Every piece of run data is escaped; a Content-Security-Policy forbids scripts and loads in any case.
 */
export function renderReport(input: ReportInput): string {
  const m = input.manifest;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(reportTitle(m))}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    `<body data-job="${esc(m.job_id)}" data-job-status="${m.status}">`,
    renderReportBody(input),
    `<footer>Made by <code>orchestrator report</code> at ${esc(input.generatedAt)} from <code>manifest.json</code> and <code>events.jsonl</code>. ` +
      `Links point into the run folder; <code>report.html</code> itself is not in the manifest's file list, which was written when the job ended.</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The page title of a job's report: name, status, id. */
export function reportTitle(m: JobManifest): string {
  return `${m.name} · ${m.status} · ${m.job_id}`;
}

/** The report's header and sections (graph, timeline, steps): what `report.html` and the UI's run page both show. */
export function renderReportBody(input: ReportInput, links: ReportLinks = {}): string {
  const m = input.manifest;
  const fans = digestFans(m);
  return [
    renderHeader(m, input.steps),
    '<main>',
    `<section id="graph"><h2>Graph</h2><div class="scroll">${renderDagSvg(input.steps.filter((s) => s.instanceOf === undefined), m.steps)}</div></section>`,
    `<section id="timeline"><h2>Timeline</h2><div class="scroll">${renderGanttSvg(input.steps, m, input.events, timeOf(input.generatedAt))}</div>${renderLegend()}</section>`,
    `<section id="steps"><h2>Steps</h2>${renderTable(input.steps, m, fans)}${renderCards(input, links, fans)}</section>`,
    '</main>',
  ].join('\n');
}

function badge(status: string): string {
  return `<span class="badge status-${status}">${statusIcon(status as StepRecord['status'])} ${esc(status)}</span>`;
}

function took(r: StepRecord | undefined): string {
  if (!r || r.duration_s === null || (!r.started_at && !r.reused)) return '–';
  return formatDuration(r.duration_s * 1000);
}

/** `+1.2s` after the job started. */
function offset(m: JobManifest, iso: string | null): string {
  const t = timeOf(iso), t0 = timeOf(m.started_at);
  if (t === undefined || t0 === undefined) return '–';
  return `+${formatDuration(Math.max(0, t - t0))}`;
}

function renderHeader(m: JobManifest, steps: readonly ReportStep[]): string {
  const counts = new Map<string, number>();
  for (const s of steps) {
    const status = m.steps[s.id]?.status ?? 'pending';
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  const tally = STATUSES.filter((s) => counts.has(s)).map((s) => `<span class="count status-${s}">${statusIcon(s)} ${counts.get(s)} ${s}</span>`);
  const facts: [string, string][] = [
    ['job', `<code>${esc(m.job_id)}</code>`],
    ['started', esc(m.started_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))],
    ['took', m.duration_s === null ? '–' : esc(formatDuration(m.duration_s * 1000))],
    ['concurrency', String(m.concurrency)],
    ['spec', `<code>${esc(m.spec.path)}</code>`],
  ];
  if (m.resumed_from) facts.push(['resumed from', `<code>${esc(m.resumed_from)}</code>`]);
  if (m.rerun_of) facts.push(['re-run of', `<code>${esc(m.rerun_of)}</code>`]);
  if (m.usage) facts.push(['tokens', `${m.usage.input_tokens} in / ${m.usage.output_tokens} out`]);
  return (
    `<header class="job status-${m.status}">` +
    `<div class="title"><h1>${esc(m.name)}</h1>${badge(m.status)}</div>` +
    `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>` +
    `<p class="tally">${steps.length} step${steps.length === 1 ? '' : 's'}: ${tally.join(' ')}</p>` +
    `</header>`
  );
}

function renderLegend(): string {
  const items = ['succeeded', 'failed', 'cancelled', 'skipped', 'running'].map((s) => `<span><i class="swatch status-${s}"></i>${s}</span>`);
  items.push('<span><i class="swatch retried"></i>retried attempt</span>');
  return `<p class="legend">${items.join('')}</p>`;
}

/** `9999 succeeded, 1 failed`: counts by status, in the header's order of statuses. */
function countsByStatus(counts: ReadonlyMap<string, number>): string {
  return STATUSES.filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(', ');
}

/** What a big fan-out's table row and card say of the instances they leave out. */
function digestNote(d: FanDigest, m: JobManifest): string {
  const count = [...d.unlisted.values()].reduce((a, b) => a + b, 0);
  return (
    `${d.total} instances. Listed here: those that did not succeed, at most ${INSTANCE_ROWS_MAX}; not listed: ${count} (${countsByStatus(d.unlisted)}). ` +
    `<code>orchestrator show ${esc(m.job_id)}</code> lists every one; each has its log in <code>logs/</code>.`
  );
}

/** A fanned step's instances by status, from their own records (so also while they run): `9999 succeeded, 1 failed`. */
function instanceTally(m: JobManifest, r: StepRecord): string {
  const counts = new Map<string, number>();
  for (const id of r.instances ?? []) {
    const status = m.steps[id]?.status ?? 'pending';
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return countsByStatus(counts) || 'none yet';
}

function renderTable(steps: readonly ReportStep[], m: JobManifest, fans: ReturnType<typeof digestFans>): string {
  const rows = steps.flatMap((s) => {
    if (fans.unlisted.has(s.id)) return [];
    const digest = fans.digests.get(s.id);
    const note = digest ? `<tr class="fan-digest" data-step="${esc(s.id)}"><td></td><td colspan="5" class="muted">${digestNote(digest, m)}</td></tr>` : '';
    const r = m.steps[s.id];
    const status = r?.status ?? 'pending';
    const flags =
      (r?.reused ? ' <span class="flag">reused</span>' : r?.cached ? ' <span class="flag">cached</span>' : '') +
      (r?.instances ? ` <span class="muted instances">${r.instances.length} instances: ${instanceTally(m, r)}</span>` : '');
    const error = r?.error ? `<code>${esc(r.error.code)}</code> ${esc(r.error.message)}` : '';
    return (
      `<tr class="status-${status}" data-step="${esc(s.id)}" data-status="${status}">` +
      `<td><a href="#step-${esc(s.id)}">${esc(s.id)}</a></td><td>${badge(status)}${flags}</td>` +
      `<td class="num" data-duration>${took(r)}</td><td class="num">${r?.attempts ?? 0}</td>` +
      `<td class="num">${r?.exit_code ?? '–'}</td><td class="error-cell">${error}</td></tr>` +
      note
    );
  });
  return (
    `<table class="summary"><thead><tr><th>step</th><th>status</th><th class="num">took</th><th class="num">attempts</th>` +
    `<th class="num">exit</th><th>error</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** What one step's card is drawn from. */
interface CardInput {
  s: ReportStep;
  m: JobManifest;
  /** Its retries, as retriesByStep says them. */
  retries: readonly string[];
  /** Its files under `artifacts/<step>/`. */
  artifacts: readonly FileRecord[];
  links: ReportLinks;
  /** A big fanned step's: what its card says of the instances that have none. */
  digest?: FanDigest;
}

/** Every step's card. The retries and artifacts are sorted by step once: a job of 10,000 instances reads its events and files once, not once a card. */
function renderCards(input: ReportInput, links: ReportLinks, fans: ReturnType<typeof digestFans>): string {
  const m = input.manifest;
  const retries = retriesByStep(input.events);
  const artifacts = new Map<string, FileRecord[]>();
  for (const f of m.files) {
    const step = /^artifacts\/([^/]+)\//.exec(f.path)?.[1];
    if (step === undefined) continue;
    const list = artifacts.get(step);
    if (list) list.push(f);
    else artifacts.set(step, [f]);
  }
  return input.steps
    .filter((s) => !fans.unlisted.has(s.id))
    .map((s) => renderCard({ s, m, retries: retries.get(s.id) ?? [], artifacts: artifacts.get(s.id) ?? [], links, digest: fans.digests.get(s.id) }))
    .join('\n');
}

/** `attempt 2 after 1.0s (exit: exited with code 1)` for each retry, by step, from the step.retrying events. */
function retriesByStep(events: readonly RunEvent[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of events) {
    if (e.type !== 'step.retrying') continue;
    const list = out.get(e.step) ?? [];
    list.push(`attempt ${e.attempt} after ${formatDuration(e.delay_s * 1000)} (${e.error.code}: ${e.error.message})`);
    out.set(e.step, list);
  }
  return out;
}

function renderCard({ s, m, retries, artifacts, links, digest }: CardInput): string {
  const r = m.steps[s.id];
  const status = r?.status ?? 'pending';
  const id = esc(s.id);
  const flags = [s.kind, r?.reused ? 'reused' : '', r?.cached ? 'cached' : ''].filter(Boolean).map((f) => `<span class="flag">${f}</span>`);
  const facts: [string, string][] = [
    ['took', took(r)],
    ['attempts', String(r?.attempts ?? 0)],
    ['exit', r?.exit_code == null ? '–' : String(r.exit_code)],
    ['started', offset(m, r?.started_at ?? null)],
    ['finished', offset(m, r?.finished_at ?? null)],
    ['needs', s.needs.length === 0 ? '–' : s.needs.map((n) => `<a href="#step-${esc(n)}">${esc(n)}</a>`).join(', ')],
  ];
  if (r?.instances) facts.push(['instances', `${r.instances.length}: ${instanceTally(m, r)}`]);
  if (r?.usage) facts.push(['tokens', `${r.usage.input_tokens} in / ${r.usage.output_tokens} out`]);
  if (r?.workers) facts.push(['workers', Object.entries(r.workers).map(([attempt, w]) => `${esc(w)} (attempt ${esc(attempt)})`).join(', ')]);
  if (r?.cache_key) facts.push(['cache key', `<code class="cache-key" title="${esc(r.cache_key)}">${esc(r.cache_key.slice(0, 16))}…</code>`]);
  const retryList = retries.length === 0 ? '' : `<div class="retries"><h4>Retries</h4><ul>${retries.map((t) => `<li>${esc(t)}</li>`).join('')}</ul></div>`;
  const keyParts = r?.cache_key_parts ? `<details class="cache-key-parts"><summary>Cache key parts</summary><pre>${esc(JSON.stringify(r.cache_key_parts, null, 2))}</pre></details>` : '';
  const error = r?.error ? `<p class="error"><code>${esc(r.error.code)}</code> ${esc(r.error.message)}</p>` : '';
  const files =
    artifacts.length === 0
      ? ''
      : `<div class="artifacts"><h4>Artifacts</h4><ul>${artifacts
          .map((f) => `<li><a href="${esc(f.path.split('/').map(encodeURIComponent).join('/'))}">${esc(f.path.slice(`artifacts/${s.id}/`.length))}</a> <span class="muted">${formatBytes(f.size_bytes)}</span> <code class="sha256" title="SHA-256 ${esc(f.sha256)}" data-sha256="${esc(f.sha256)}">${esc(f.sha256.slice(0, 12))}</code></li>`)
          .join('')}</ul></div>`;
  const hasOutputs = s.outputs !== undefined && Object.keys(s.outputs).length > 0;
  const json = hasOutputs ? JSON.stringify(s.outputs, null, 2) : '';
  const isShort = json.split('\n').length <= 12;
  const outputs = hasOutputs
    ? `<details class="outputs"${isShort ? ' open' : ''}><summary>Outputs <span class="muted">${Object.keys(s.outputs!).length} key${Object.keys(s.outputs!).length === 1 ? '' : 's'}</span></summary><pre>${esc(json)}</pre></details>`
    : `<p class="muted none">no outputs</p>`;
  return (
    `<article class="step status-${status}" id="step-${id}" data-step="${id}" data-status="${status}">` +
    `<h3>${badge(status)} <span class="step-id">${id}</span> ${flags.join(' ')}</h3>` +
    `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>` +
    (digest ? `<p class="note fan-digest">${digestNote(digest, m)}</p>` : '') +
    error +
    retryList +
    outputs +
    keyParts +
    files +
    renderLog(s, status === 'failed', links.liveLog?.(s.id)) +
    `</article>`
  );
}

function renderLog(s: ReportStep, isOpen: boolean, liveLog: string | undefined): string {
  const live = liveLog === undefined ? '' : `<p class="live-log"><a href="${esc(liveLog)}" data-live-log="${esc(s.id)}">Follow the log live</a></p>`;
  if (!s.log) return `${live}<p class="muted none">no log</p>`;
  const text = cleanLogText(s.log.text);
  const size = formatBytes(Buffer.byteLength(s.log.text) + s.log.omittedBytes);
  const note =
    s.log.omittedBytes > 0
      ? `<p class="note">The first ${formatBytes(s.log.omittedBytes)} are left out; the whole log is <a href="logs/${encodeURIComponent(s.id)}.log">logs/${esc(s.id)}.log</a>.</p>`
      : '';
  // column-reverse makes the box open scrolled to its end, where a failure shows, without any script.
  const body = text === '' ? '<p class="muted none">(empty)</p>' : `<div class="tail"><pre>${esc(text)}</pre></div>`;
  return `${live}<details class="log"${isOpen ? ' open' : ''}><summary>Log <span class="muted">${size}</span></summary>${note}${body}</details>`;
}
