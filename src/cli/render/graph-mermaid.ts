import type { StepSpec } from '../../specfile/model.js';

/** How a Mermaid chart shows each step: its label (default: its id) and a class to colour it. */
export interface MermaidLook {
  label?: (step: StepSpec) => string;
  classOf?: (step: StepSpec) => string | undefined;
}

/** A spec's DAG as a Mermaid flowchart: prompt steps rounded, one edge per need. */
export function renderMermaidLines(steps: readonly StepSpec[], { label = (s) => s.id, classOf = () => undefined }: MermaidLook = {}): string[] {
  // Mermaid node ids are n0, n1, …: a step called `end`, `graph` or `style` would otherwise break the chart.
  const node = new Map(steps.map((s, i) => [s.id, `n${i}`]));
  const lines = ['flowchart LR'];
  for (const s of steps) {
    const text = `"${label(s).replaceAll('"', '#quot;')}"`;
    const cls = classOf(s);
    lines.push(`  ${node.get(s.id)}${s.kind === 'llm' ? `([${text}])` : `[${text}]`}${cls === undefined ? '' : `:::${cls}`}`);
  }
  for (const s of steps) for (const n of s.needs) lines.push(`  ${node.get(n)} --> ${node.get(s.id)}`);
  return lines;
}
