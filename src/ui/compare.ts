import fs from 'node:fs';
import path from 'node:path';
import { escapeHtml as esc } from '../report/escape.js';
import { statusIcon } from '../report/model.js';
import { formatDuration } from '../specfile/duration.js';
import type { JobManifest, StepRecord } from '../store/manifest.js';
import { readStepShapes, type StepShape } from '../store/spec-copy.js';
import { parseUntrustedJson } from '../util/json.js';
import { renderPage } from './page.js';

/** What outputs/<id>.json says of a step that a comparison shows. */
interface StepAnswer {
  text?: string;
  outputs?: unknown;
  matrix?: unknown;
  item?: unknown;
  /** A fanned step's: its instances' results (outputs and text), compared as a whole. */
  results?: unknown;
}

/** One side of a comparison: a job's manifest, its graph's shapes and its outputs files. */
interface Side {
  m: JobManifest;
  shapes: Map<string, StepShape>;
  answer: (id: string) => StepAnswer;
}

/** Read one job for a comparison: outputs files are read when a row asks for them, once each. */
export function loadSide(runsDir: string, m: JobManifest): Side {
  const dir = path.join(runsDir, m.job_id);
  let shapes = new Map<string, StepShape>();
  try {
    shapes = readStepShapes(dir);
  } catch {
    // No spec copy: every step is drawn as a shell step, which only leaves the answers column out.
  }
  const seen = new Map<string, StepAnswer>();
  const answer = (id: string): StepAnswer => {
    const known = seen.get(id);
    if (known) return known;
    let a: StepAnswer = {};
    try {
      const parsed = parseUntrustedJson(fs.readFileSync(path.join(dir, 'outputs', `${id}.json`), 'utf8'));
      if ('value' in parsed && parsed.value !== null && typeof parsed.value === 'object') a = parsed.value as StepAnswer;
    } catch {
      // No outputs file (a step that never ran): nothing to compare.
    }
    seen.set(id, a);
    return a;
  };
  return { m, shapes, answer };
}

function cell(r: StepRecord | undefined): string {
  if (!r) return '<td class="muted">—</td>';
  return `<td><span class="badge status-${r.status}">${statusIcon(r.status)} ${esc(r.status)}</span></td>`;
}

function took(r: StepRecord | undefined): string {
  return r?.duration_s == null || (!r.started_at && !r.reused) ? '–' : formatDuration(r.duration_s * 1000);
}

/** `+120ms` / `−1.2s`: B's duration against A's. */
function delta(a: StepRecord | undefined, b: StepRecord | undefined): string {
  if (a?.duration_s == null || b?.duration_s == null) return '';
  const d = (b.duration_s - a.duration_s) * 1000;
  return `${d >= 0 ? '+' : '−'}${formatDuration(Math.abs(d))}`;
}

/** The steps of both jobs, A's order first, then B's own. */
function stepIds(a: Side, b: Side): string[] {
  return [...new Set([...Object.keys(a.m.steps), ...Object.keys(b.m.steps)])];
}

function sameJson(x: unknown, y: unknown): boolean {
  return JSON.stringify(x ?? null) === JSON.stringify(y ?? null);
}

function renderStepsTable(a: Side, b: Side): string {
  const rows = stepIds(a, b)
    .filter((id) => (a.m.steps[id] ?? b.m.steps[id])!.instance_of === undefined)
    .map((id) => {
      const ra = a.m.steps[id], rb = b.m.steps[id];
      const cells = `<td>${esc(id)}</td>${cell(ra)}${cell(rb)}<td class="num">${took(ra)}</td><td class="num">${took(rb)}</td><td class="num">${delta(ra, rb)}</td>`;
      // A step of one job alone (the spec gained or lost it) was added or removed: it has nothing to have changed from.
      if (!ra || !rb) {
        const [mark, what] = ra ? ['removed', 'removed (only in A)'] : ['added', 'added (only in B)'];
        return `<tr data-step="${esc(id)}" data-changed="${mark}" class="changed ${mark}">${cells}<td>${what}</td></tr>`;
      }
      const statusChanged = ra.status !== rb.status;
      const x = a.answer(id), y = b.answer(id);
      const outputsChanged = !sameJson(x.outputs, y.outputs) || x.text !== y.text || !sameJson(x.results, y.results);
      const marks = [statusChanged ? 'status' : '', outputsChanged ? 'outputs' : ''].filter(Boolean);
      return (
        `<tr data-step="${esc(id)}" data-changed="${marks.join(' ')}"${marks.length > 0 ? ' class="changed"' : ''}>${cells}` +
        `<td>${marks.length === 0 ? '<span class="muted">same</span>' : esc(marks.join(', ') + ' changed')}</td></tr>`
      );
    });
  return (
    `<table class="summary compare"><thead><tr><th>step</th><th>status A</th><th>status B</th><th class="num">took A</th><th class="num">took B</th>` +
    `<th class="num">B − A</th><th>what changed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function answerHtml(a: StepAnswer | undefined): string {
  return a?.text === undefined ? '<span class="muted">no answer</span>' : `<pre>${esc(a.text)}</pre>`;
}

/** Prompt steps that do not fan out: the two answers next to each other. */
function renderAnswers(a: Side, b: Side): string {
  const ids = stepIds(a, b).filter((id) => {
    const r = a.m.steps[id] ?? b.m.steps[id]!;
    return r.instance_of === undefined && r.instances === undefined && (a.shapes.get(id) ?? b.shapes.get(id))?.kind === 'llm';
  });
  if (ids.length === 0) return '';
  const rows = ids.map((id) => `<tr data-step="${esc(id)}"><td>${esc(id)}</td><td>${answerHtml(a.answer(id))}</td><td>${answerHtml(b.answer(id))}</td></tr>`);
  return `<section id="answers"><h2>Answers</h2><table class="summary answers"><thead><tr><th>step</th><th>A</th><th>B</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

/** An item or a matrix combination as a heading: a mapping item by its id or name, a combination by its values. */
function keyOf(v: unknown, isMatrix: boolean): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (isMatrix) return Object.values(o).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
    if (typeof o.id === 'string' || typeof o.name === 'string') return String(o.id ?? o.name);
  }
  return typeof v === 'string' ? v : JSON.stringify(v ?? null);
}

/**
 * A fanned prompt step as an evaluation table: one row per item, one column per matrix combination (the models, say),
 * each cell holding A's answer over B's.
 */
function renderEvaluation(step: string, a: Side, b: Side): string {
  // Sets keep first-seen order, and a fan-out of thousands of items is not searched once per item.
  const rows = new Set<string>(), cols = new Set<string>();
  const cells = new Map<string, { a?: StepAnswer; b?: StepAnswer }>();
  for (const [side, name] of [[a, 'a'], [b, 'b']] as const) {
    for (const id of side.m.steps[step]?.instances ?? []) {
      const ans = side.answer(id);
      const row = keyOf(ans.item, false), col = keyOf(ans.matrix, true);
      rows.add(row);
      cols.add(col);
      const k = `${row}\u0000${col}`;
      cells.set(k, { ...cells.get(k), [name]: ans });
    }
  }
  const head = [...cols].map((c) => `<th>${esc(c)}</th>`).join('');
  const body = [...rows].map((row) => {
    const tds = [...cols].map((col) => {
      const c = cells.get(`${row}\u0000${col}`);
      return `<td><div class="side-a"><b>A</b> ${answerHtml(c?.a)}</div><div class="side-b"><b>B</b> ${answerHtml(c?.b)}</div></td>`;
    });
    return `<tr><th scope="row">${esc(row)}</th>${tds.join('')}</tr>`;
  });
  return `<h3>${esc(step)}</h3><table class="summary evaluation" data-step="${esc(step)}"><thead><tr><th>item</th>${head}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

function renderEvaluations(a: Side, b: Side): string {
  const fanned = stepIds(a, b).filter((id) => {
    const r = a.m.steps[id] ?? b.m.steps[id]!;
    return r.instances !== undefined && (a.shapes.get(id) ?? b.shapes.get(id))?.kind === 'llm';
  });
  if (fanned.length === 0) return '';
  return `<section id="evaluation"><h2>Evaluation</h2>${fanned.map((id) => renderEvaluation(id, a, b)).join('')}</section>`;
}

function sideHeader(label: string, s: Side): string {
  const m = s.m;
  return (
    `<div class="side"><h2>${label}: <a href="/runs/${encodeURIComponent(m.job_id)}/">${esc(m.name)} <code>${esc(m.job_id)}</code></a></h2>` +
    `<p><span class="badge status-${m.status}">${statusIcon(m.status)} ${esc(m.status)}</span> ` +
    `${m.duration_s === null ? '' : esc(formatDuration(m.duration_s * 1000))}</p>` +
    // What the runs page marks damaged says so here too.
    `${m.damaged ? `<p class="warnings">${esc(m.damaged)}; compared as events.jsonl recorded it</p>` : ''}</div>`
  );
}

/** The compare page of two jobs: which steps changed status, duration and outputs, and the answers side by side. */
export function renderComparePage(a: Side, b: Side): string {
  const note = a.m.spec.sha256 !== b.m.spec.sha256 ? '<p class="note">The two jobs ran different versions of the spec.</p>' : '';
  return renderPage({
    title: `compare ${a.m.job_id} with ${b.m.job_id}`,
    page: 'compare',
    body:
      `<header class="job"><div class="title"><h1>Compare</h1></div><div class="sides">${sideHeader('A', a)}${sideHeader('B', b)}</div>${note}</header>` +
      `<main><section id="changes"><h2>Steps</h2>${renderStepsTable(a, b)}</section>${renderAnswers(a, b)}${renderEvaluations(a, b)}</main>`,
  });
}
