import { formatDuration } from '../specfile/duration.js';
import type { StepRecord } from '../store/manifest.js';
import { escapeHtml as esc, truncate } from './escape.js';
import { statusIcon, type ReportStep } from './model.js';

const NODE_W = 176;
const NODE_H = 46;
const COL_GAP = 64;
const ROW_GAP = 18;
const PAD = 12;

/** Where one step's box sits. */
export interface NodePlace {
  id: string;
  column: number;
  x: number;
  y: number;
}

/** Columns by longest-path depth (a step sits one column right of its deepest need), rows ordered to shorten edges. */
export function layoutDag(steps: readonly ReportStep[]): { nodes: Map<string, NodePlace>; width: number; height: number } {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle cannot reach a run folder (validation refuses it); do not loop on one anyway
    visiting.add(id);
    const needs = (byId.get(id)?.needs ?? []).filter((n) => byId.has(n));
    const d = needs.length === 0 ? 0 : 1 + Math.max(...needs.map(depthOf));
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const columns: string[][] = [];
  for (const s of steps) (columns[depthOf(s.id)] ??= []).push(s.id);

  const rowY = (i: number) => i * (NODE_H + ROW_GAP);
  const y = new Map<string, number>();
  columns.forEach((col, c) => {
    if (c > 0) {
      // Barycentre ordering: a step sits near the mean height of its needs (stable sort keeps spec order on ties).
      const key = (id: string) => {
        const ys = (byId.get(id)?.needs ?? []).map((n) => y.get(n)).filter((v): v is number => v !== undefined);
        return ys.length === 0 ? 0 : ys.reduce((a, b) => a + b, 0) / ys.length;
      };
      col.sort((a, b) => key(a) - key(b));
    }
    col.forEach((id, i) => y.set(id, rowY(i)));
  });

  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const height = rowY(tallest) - ROW_GAP + 2 * PAD;
  const nodes = new Map<string, NodePlace>();
  columns.forEach((col, c) => {
    const offset = (rowY(tallest) - rowY(col.length)) / 2; // centre short columns
    for (const id of col) nodes.set(id, { id, column: c, x: PAD + c * (NODE_W + COL_GAP), y: PAD + offset + y.get(id)! });
  });
  const width = 2 * PAD + columns.length * NODE_W + Math.max(0, columns.length - 1) * COL_GAP;
  return { nodes, width, height };
}

/** A fanned step's box counts its instances (`3/5 done, 1 failed`) from their own records, so it moves while they run. */
function fanCounts(r: StepRecord | undefined, records: Record<string, StepRecord>): string {
  if (!r?.instances) return '';
  let done = 0, failed = 0;
  for (const id of r.instances) {
    const st = records[id]?.status;
    if (st !== undefined && st !== 'pending' && st !== 'running') done++;
    if (st === 'failed') failed++;
  }
  return `${done}/${r.instances.length} done${failed > 0 ? `, ${failed} failed` : ''}`;
}

/** The DAG as an inline SVG: one box per step coloured by status, linking to its card; edges from need to step. */
export function renderDagSvg(steps: readonly ReportStep[], records: Record<string, StepRecord>): string {
  const { nodes, width, height } = layoutDag(steps);
  const edges: string[] = [];
  for (const s of steps) {
    const to = nodes.get(s.id)!;
    for (const n of s.needs) {
      const from = nodes.get(n);
      if (!from) continue;
      const x1 = from.x + NODE_W, y1 = from.y + NODE_H / 2, x2 = to.x - 2, y2 = to.y + NODE_H / 2;
      const dx = Math.max(24, (x2 - x1) / 2);
      edges.push(`<path class="edge" data-from="${esc(n)}" data-to="${esc(s.id)}" d="M${x1} ${y1} C${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}" marker-end="url(#arrow)"/>`);
    }
  }
  const boxes = steps.map((s) => {
    const p = nodes.get(s.id)!;
    const r = records[s.id];
    const status = r?.status ?? 'pending';
    const took = r?.duration_s != null && r.started_at ? formatDuration(r.duration_s * 1000) : '';
    const detail = [status, took, fanCounts(r, records), s.kind === 'llm' ? 'llm' : ''].filter(Boolean).join(' · ');
    return (
      `<a href="#step-${esc(s.id)}" class="node status-${status}" data-step="${esc(s.id)}" data-status="${status}">` +
      `<title>${esc(`${s.id}: ${detail}`)}</title>` +
      `<rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="8"/>` +
      `<text class="icon" x="${p.x + 12}" y="${p.y + 20}">${statusIcon(status)}</text>` +
      `<text class="id" x="${p.x + 30}" y="${p.y + 20}">${esc(truncate(s.id, 19))}</text>` +
      `<text class="detail" x="${p.x + 30}" y="${p.y + 37}">${esc(detail)}</text>` +
      `</a>`
    );
  });
  return (
    `<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="step graph">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
    `<path d="M0 0 L10 5 L0 10 z" class="arrowhead"/></marker></defs>` +
    `<g class="edges">${edges.join('')}</g><g class="nodes">${boxes.join('')}</g></svg>`
  );
}
