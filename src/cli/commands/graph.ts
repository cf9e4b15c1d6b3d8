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
    lines.push(...(await import('../render/graph-mermaid.js')).renderMermaidLines(spec.steps, { label: (s) => stepLabel(s, false) }));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
