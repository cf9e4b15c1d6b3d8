import path from 'node:path';
import { renderReportBody, reportTitle } from '../report/html.js';
import { escapeHtml as esc } from '../report/escape.js';
import { loadReportInput } from '../report/load.js';
import { digestFans } from '../report/model.js';
import type { RunEvent } from '../events/types.js';
import type { JobManifest } from '../store/manifest.js';
import { renderPage } from './page.js';
import { sameNameRuns } from './runs-list.js';

/** Where a step's live log page is, relative to the run page (`/runs/<id>/`). */
function liveLogHref(step: string): string {
  return `log/${encodeURIComponent(step)}`;
}

/** The run's report sections as the run page shows them (and refreshes in place while the job runs); `journal`: its events, when read already. */
export function renderRunView(runsDir: string, m: JobManifest, journal?: RunEvent[]): string {
  const input = loadReportInput(path.join(runsDir, m.job_id), m, journal);
  // What the runs page marks damaged says so here too, as `show` and `report` do on stderr.
  const all = [...(m.damaged ? [`${m.damaged}; the page shows what events.jsonl recorded`] : []), ...input.warnings];
  const warnings = all.length === 0 ? '' : `<ul class="warnings">${all.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`;
  return `<div id="report" data-job-status="${m.status}">${warnings}${renderReportBody(input, { liveLog: liveLogHref })}</div>`;
}

/** The actions a job allows now, each behind a confirmation in the page: cancel while it runs, resume and rerun after. */
function renderActions(m: JobManifest): string {
  if (m.status === 'running') return `<div class="actions"><button type="button" data-action="cancel" class="danger">Cancel this job</button></div>`;
  // The instances of a big fan-out that the report does not list are not offered one by one either (their step is).
  const { unlisted } = digestFans(m);
  const steps = Object.keys(m.steps)
    .filter((id) => !unlisted.has(id))
    .map((id) => `<option value="${esc(id)}">${esc(id)}</option>`)
    .join('');
  const resume = m.status === 'succeeded' ? '' : `<button type="button" data-action="resume">Resume (re-run what did not succeed)</button> `;
  // A job killed before its first event has no step to pick (and no spec copy: resume says so).
  const rerun = steps === '' ? '' : `<label>Step <select id="rerun-step">${steps}</select></label> <button type="button" data-action="rerun">Re-run this step and what depends on it</button>`;
  return `<div class="actions">${resume}${rerun}<span id="action-status" class="muted"></span></div>`;
}

function renderCompareForm(runsDir: string, m: JobManifest): string {
  const others = sameNameRuns(runsDir, m, 50);
  if (others.length === 0) return '';
  const options = others.map((r) => `<option value="${esc(r.job_id)}">${esc(r.job_id)} · ${esc(r.status)}</option>`).join('');
  return (
    `<form class="compare-form" method="get" action="/compare"><input type="hidden" name="a" value="${esc(m.job_id)}">` +
    `<label>Compare with <select name="b">${options}</select></label> <button type="submit">Compare</button></form>`
  );
}

/** The run page: actions, the report (live while the job runs), and the journal as it arrives. */
export function renderRunPage(runsDir: string, m: JobManifest, journal?: RunEvent[]): string {
  return renderPage({
    title: reportTitle(m),
    page: 'run',
    data: { job: m.job_id, 'job-status': m.status },
    body:
      renderActions(m) +
      renderCompareForm(runsDir, m) +
      renderRunView(runsDir, m, journal) +
      `<section id="events"><h2>Events <span class="muted" id="stream-state"></span></h2><ol id="event-list"></ol></section>`,
  });
}

/** A step's log page: the text arrives through the log stream, from where the page left off after a reconnect. */
export function renderLogPage(m: JobManifest, step: string): string {
  const r = m.steps[step]!;
  return renderPage({
    title: `${step} · ${m.name} · log`,
    page: 'log',
    data: { job: m.job_id, step },
    body:
      `<header class="job"><div class="title"><h1>${esc(step)}</h1><span class="badge status-${r.status}" id="step-status">${esc(r.status)}</span></div>` +
      `<p><a href="../">${esc(m.name)} <code>${esc(m.job_id)}</code></a> · <a href="../logs/${encodeURIComponent(step)}.log">raw log</a></p></header>` +
      `<p class="muted" id="log-note"></p><div class="tail live"><pre id="log-text"></pre></div><p class="muted" id="log-state">connecting…</p>`,
  });
}
