import { parseSpecArg } from '../../specfile/spec-arg.js';
import { stepLabel } from '../render/graph-ascii.js';

/** `orchestrator graph <spec>`: the DAG as Mermaid, Graphviz dot, or text for the terminal (ascii, alias text). */
export async function graphCommand(file: string, opts: { format: 'mermaid' | 'dot' | 'ascii' | 'text' }): Promise<number> {
  const spec = await parseSpecArg(file);
  if (opts.format === 'ascii' || opts.format === 'text') {
    process.stdout.write((await import('../render/graph-ascii.js')).renderAsciiGraph(spec));
    return 0;
  }
  const lines: string[] = [];
  if (opts.format === 'dot') {
    lines.push(`digraph ${JSON.stringify(spec.name)} {`, '  rankdir=LR;', '  node [shape=box, style=rounded];');
    for (const s of spec.steps) {
      const attrs = [...(s.fan ? [`label=${JSON.stringify(stepLabel(s, false))}`] : []), ...(s.kind === 'llm' ? ['shape=ellipse'] : [])];
      lines.push(`  ${JSON.stringify(s.id)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
      for (const n of s.needs) lines.push(`  ${JSON.stringify(n)} -> ${JSON.stringify(s.id)};`);
    }
    lines.push('}');
  } else {
    // Mermaid node ids are n0, n1, …: a step called `end`, `graph` or `style` would otherwise break the chart.
    const node = new Map(spec.steps.map((s, i) => [s.id, `n${i}`]));
    lines.push('flowchart LR');
    for (const s of spec.steps) lines.push(s.kind === 'llm' ? `  ${node.get(s.id)}(["${stepLabel(s, false)}"])` : `  ${node.get(s.id)}["${stepLabel(s, false)}"]`);
    for (const s of spec.steps) for (const n of s.needs) lines.push(`  ${node.get(n)} --> ${node.get(s.id)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
