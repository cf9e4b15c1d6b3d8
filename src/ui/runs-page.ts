import { escapeHtml as esc } from '../report/escape.js';
import { statusIcon } from '../report/model.js';
import { formatDuration } from '../specfile/duration.js';
import type { StepRecord } from '../store/manifest.js';
import type { RunRow, RunsPage, RunsQuery } from './runs-list.js';

const STATUSES = ['running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'damaged'] as const;
const COUNT_ORDER = ['succeeded', 'failed', 'running', 'cancelled', 'skipped', 'pending', 'interrupted'] as const;

/** The query string of a runs page, for the links to the next page. */
function queryOf(q: RunsQuery, offset: number): string {
  const p = new URLSearchParams();
  if (q.status) p.set('status', q.status);
  if (q.name) p.set('name', q.name);
  if (offset > 0) p.set('offset', String(offset));
  const s = p.toString();
  return s === '' ? '/' : `/?${s}`;
}

function icon(status: string): string {
  return status === 'damaged' ? '⚠' : statusIcon(status as StepRecord['status']);
}

function rowHtml(r: RunRow): string {
  const counts = COUNT_ORDER.filter((s) => (r.counts[s] ?? 0) > 0)
    .map((s) => `<span class="count status-${s}">${statusIcon(s)} ${r.counts[s]}</span>`)
    .join(' ');
  return (
    `<tr class="status-${r.status}" data-job="${esc(r.job_id)}" data-status="${r.status}">` +
    `<td><input type="checkbox" class="pick" value="${esc(r.job_id)}" aria-label="pick ${esc(r.job_id)} to compare"></td>` +
    `<td><a href="/runs/${encodeURIComponent(r.job_id)}/"><code>${esc(r.job_id)}</code></a></td>` +
    `<td>${esc(r.name)}</td>` +
    `<td><span class="badge status-${r.status}">${icon(r.status)} ${esc(r.status)}</span>${r.damaged ? ` <span class="muted">${esc(r.damaged)}</span>` : ''}</td>` +
    `<td>${r.started_at === null ? '?' : esc(r.started_at.replace('T', ' ').slice(0, 19))}</td>` +
    `<td class="num">${r.duration_s === null ? '–' : esc(formatDuration(r.duration_s * 1000))}</td>` +
    `<td>${r.total} step${r.total === 1 ? '' : 's'} ${counts}</td></tr>`
  );
}

/** The table of runs alone: what the page refreshes in place. */
export function renderRunsTable(page: RunsPage, q: RunsQuery): string {
  const more = page.next === undefined ? '' : `<p class="more"><a href="${esc(queryOf(q, page.next))}" rel="next">Older runs →</a></p>`;
  if (page.rows.length === 0) return `<div id="runs-table"><p class="muted">${page.total === 0 ? 'No runs in this folder yet.' : 'No runs match.'}</p>${more}</div>`;
  return (
    `<div id="runs-table"><table class="summary runs"><thead><tr><th></th><th>job</th><th>name</th><th>status</th><th>started (UTC)</th>` +
    `<th class="num">took</th><th>steps</th></tr></thead><tbody>${page.rows.map(rowHtml).join('')}</tbody></table>${more}</div>`
  );
}

/** The runs page's body: filters, the compare button, the table. */
export function renderRunsBody(page: RunsPage, q: RunsQuery, runsDir: string): string {
  const options = ['', ...STATUSES].map((s) => `<option value="${s}"${q.status === s ? ' selected' : ''}>${s === '' ? 'any status' : s}</option>`).join('');
  return (
    `<header class="job"><div class="title"><h1>Runs</h1></div><p class="muted"><code>${esc(runsDir)}</code> · ${page.total} run folder${page.total === 1 ? '' : 's'}</p></header>` +
    `<form class="filters" method="get" action="/"><label>Status <select name="status">${options}</select></label> ` +
    `<label>Name <input name="name" value="${esc(q.name ?? '')}" placeholder="part of a name"></label> <button type="submit">Filter</button></form>` +
    `<form class="compare-form" method="get" action="/compare"><input type="hidden" name="a"><input type="hidden" name="b">` +
    `<button type="submit" id="compare-picked" disabled>Compare the two picked runs</button></form>` +
    renderRunsTable(page, q)
  );
}
