import { parseSpec } from '../../spec/validate.js';

/** `orchestrator graph <spec>`: the DAG as Mermaid or Graphviz dot. */
export async function graphCommand(file: string, opts: { format: 'mermaid' | 'dot' }): Promise<number> {
  const spec = parseSpec(file);
  const lines: string[] = [];
  if (opts.format === 'dot') {
    lines.push(`digraph ${JSON.stringify(spec.name)} {`, '  rankdir=LR;', '  node [shape=box, style=rounded];');
    for (const s of spec.steps) {
      lines.push(`  ${JSON.stringify(s.id)}${s.kind === 'llm' ? ' [shape=ellipse]' : ''};`);
      for (const n of s.needs) lines.push(`  ${JSON.stringify(n)} -> ${JSON.stringify(s.id)};`);
    }
    lines.push('}');
  } else {
    lines.push('flowchart LR');
    for (const s of spec.steps) lines.push(s.kind === 'llm' ? `  ${s.id}(["${s.id}"])` : `  ${s.id}["${s.id}"]`);
    for (const s of spec.steps) for (const n of s.needs) lines.push(`  ${n} --> ${s.id}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
