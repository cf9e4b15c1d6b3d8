import { parseSpecArg } from '../../specfile/spec-arg.js';

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
      lines.push(`  ${JSON.stringify(s.id)}${s.kind === 'llm' ? ' [shape=ellipse]' : ''};`);
      for (const n of s.needs) lines.push(`  ${JSON.stringify(n)} -> ${JSON.stringify(s.id)};`);
    }
    lines.push('}');
  } else {
    lines.push(...(await import('../render/graph-mermaid.js')).renderMermaidLines(spec.steps));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
