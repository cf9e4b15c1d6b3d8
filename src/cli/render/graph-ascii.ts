import { buildGraph, topologicalOrder } from '../../graph/build.js';
import { describeFan } from '../../graph/instances.js';
import type { JobSpec, StepSpec } from '../../specfile/model.js';

/** Lines are wrapped at this width (fixed, not the terminal's, so the output is the same everywhere). */
const WIDTH = 100;
/** Longer step ids do not widen the name column for every other step. */
const MAX_NAME_COLUMN = 32;

/**
 * The DAG as plain text for a terminal: steps in layers (a step's layer is its longest chain of needs, so every
 * step sits below all of its needs), each step with its needs after `<-`, prompt steps marked `(llm)`. Within a
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
  const nameWidth = Math.min(MAX_NAME_COLUMN, Math.max(...g.ids.map((_, i) => label(i).length)));
  const layerWidth = `layer ${layers.length}`.length;
  const lines = [`${spec.name}: ${plural(g.ids.length, 'step')} in ${plural(layers.length, 'layer')} (each step below all of its needs)`, ''];
  let next = 0;
  layers.forEach((members, k) => {
    const ordered = members
      .map((i) => ({ i, at: g.needs[i]!.length === 0 ? i : mean(g.needs[i]!.map((n) => row[n]!)) }))
      .sort((a, b) => a.at - b.at || a.i - b.i)
      .map(({ i }) => i);
    ordered.forEach((i, r) => {
      row[i] = next++;
      const head = `${(r === 0 ? `layer ${k + 1}` : '').padEnd(layerWidth)}  ${label(i).padEnd(nameWidth)}`;
      const needs = g.needs[i]!.map((n) => g.ids[n]!);
      lines.push(...withNeeds(head, needs));
    });
  });
  return `${lines.join('\n')}\n`;
}

/** `head  <- a, b, c`, wrapped at WIDTH with the needs lined up under the first one. */
/** A step as graphs name it: its id, how it fans out, and `(llm)` for a prompt step in text. */
export function stepLabel(step: StepSpec, kindMark = true): string {
  return `${step.id}${step.fan ? ` ${describeFan(step.fan)}` : ''}${kindMark && step.kind === 'llm' ? ' (llm)' : ''}`;
}

function withNeeds(head: string, needs: string[]): string[] {
  if (needs.length === 0) return [head.trimEnd()];
  const lead = `${head}  <- `;
  const indent = ' '.repeat(lead.length);
  const out: string[] = [];
  let line = lead;
  needs.forEach((need, k) => {
    const piece = k < needs.length - 1 ? `${need},` : need;
    const isLineStart = line === lead || line === indent;
    if (!isLineStart && line.length + 1 + piece.length > WIDTH) {
      out.push(line);
      line = indent;
    }
    line += line === lead || line === indent ? piece : ` ${piece}`;
  });
  out.push(line);
  return out;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
