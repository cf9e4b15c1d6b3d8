import stringWidth from 'string-width';
import { buildGraph, topologicalOrder } from '../../graph/build.js';
import { describeFan } from '../../graph/instances.js';
import type { JobSpec, StepSpec } from '../../specfile/model.js';
import { plural } from './units.js';

/** Lines are wrapped at this width (fixed, not the terminal's, so the output is the same everywhere). */
const WIDTH = 100;
/** Longer labels do not widen the name column for every other step: their needs go on the next line, in the column. */
const MAX_NAME_COLUMN = 32;

/**
 * The DAG as plain text for a terminal: steps in layers (a step's layer is its longest chain of needs, so every
 * step sits below all of its needs), each step with its needs after `<-` (in one column, measured in terminal
 * cells: a fanned step's `×`, a matrix key in any script), prompt steps marked `(llm)`. Within a
 * layer, steps are ordered by where their needs are (then by spec order), which keeps related steps together.
 * Deterministic; O(steps + edges) apart from sorting each layer.
 */
export function renderAsciiGraph(spec: Pick<JobSpec, 'name' | 'steps'>): string {
  const g = buildGraph(spec.steps);
  const layerOf = new Array<number>(g.ids.length).fill(0);
  for (const i of topologicalOrder(g)) for (const n of g.needs[i]!) layerOf[i] = Math.max(layerOf[i]!, layerOf[n]! + 1);
  const layers: number[][] = [];
  for (let i = 0; i < g.ids.length; i++) (layers[layerOf[i]!] ??= []).push(i);

  const row = new Array<number>(g.ids.length).fill(0);
  const label = (i: number) => stepLabel(spec.steps[i]!);
  const nameWidth = Math.min(MAX_NAME_COLUMN, Math.max(...g.ids.map((_, i) => stringWidth(label(i)))));
  const layerWidth = `layer ${layers.length}`.length;
  const column = layerWidth + 2 + nameWidth; // where the needs' `  <- ` starts on every row
  const lines = [`${spec.name}: ${plural(g.ids.length, 'step', 'steps')} in ${plural(layers.length, 'layer', 'layers')} (each step below all of its needs)`, ''];
  let next = 0;
  layers.forEach((members, k) => {
    const ordered = members
      .map((i) => ({ i, at: g.needs[i]!.length === 0 ? i : mean(g.needs[i]!.map((n) => row[n]!)) }))
      .sort((a, b) => a.at - b.at || a.i - b.i)
      .map(({ i }) => i);
    ordered.forEach((i, r) => {
      row[i] = next++;
      const head = `${(r === 0 ? `layer ${k + 1}` : '').padEnd(layerWidth)}  ${label(i)}`;
      const needs = g.needs[i]!.map((n) => g.ids[n]!);
      lines.push(...withNeeds(head, column, needs));
    });
  });
  return `${lines.join('\n')}\n`;
}

/** A step as graphs name it: its id, how it fans out, and `(llm)` for a prompt step in text. */
export function stepLabel(step: StepSpec, kindMark = true): string {
  return `${step.id}${step.fan ? ` ${describeFan(step.fan)}` : ''}${kindMark && step.kind === 'llm' ? ' (llm)' : ''}`;
}

/**
 * `head  <- a, b, c` with `<-` at `column` (terminal cells), wrapped at WIDTH with the needs lined up under the
 * first one. A head wider than the column keeps its line, and its needs start the next one, at the column.
 */
function withNeeds(head: string, column: number, needs: string[]): string[] {
  if (needs.length === 0) return [head];
  const headWidth = stringWidth(head);
  const out = headWidth > column ? [head] : [];
  const indent = ' '.repeat(column + '  <- '.length);
  let line = `${headWidth > column ? ' '.repeat(column) : head + ' '.repeat(column - headWidth)}  <- `;
  let width = indent.length; // ids are ASCII: from here on, one cell per character
  needs.forEach((need, k) => {
    const piece = k < needs.length - 1 ? `${need},` : need;
    const isLineStart = width === indent.length;
    if (!isLineStart && width + 1 + piece.length > WIDTH) {
      out.push(line);
      line = indent;
      width = indent.length;
    }
    const added = width === indent.length ? piece : ` ${piece}`;
    line += added;
    width += added.length;
  });
  out.push(line);
  return out;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

