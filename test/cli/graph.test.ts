// `orchestrator graph --format ascii` (alias text): the DAG in layers for a terminal, through the built binary.
import path from 'node:path';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { REPO, useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-graph-ascii-');

function graph(file: string, format = 'ascii'): string {
  const r = rig().run(['graph', file, '--format', format]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** A step whose output lists files, for steps that fan out over it. */
const LIST_STEP = `steps:
  list:
    output: json
    run: |
      echo '{"files": ["a", "b"]}'
`;

describe('graph --format ascii', () => {
  it('draws examples/tiny_spec.yaml in its three layers, each step with its needs; text is the same', () => {
    const tiny = path.join(REPO, 'examples/tiny_spec.yaml');
    expect(graph(tiny)).toBe(
      [
        'tiny-notes: 4 steps in 3 layers (each step below all of its needs)',
        '',
        'layer 1  architect',
        'layer 2  builder    <- architect',
        '         docs       <- architect',
        'layer 3  qa         <- builder, docs',
        '',
      ].join('\n'),
    );
    expect(graph(tiny, 'text')).toBe(graph(tiny));
  });

  it('puts a step below its longest chain of needs, not its shortest; marks prompt steps', () => {
    rig().write(
      'diamond.yaml',
      `name: diamond
providers:
  llm: { type: openai, model: m, base_url: "http://127.0.0.1:9/v1" }
steps:
  top:
    run: echo
  right:
    needs: [top]
    prompt: summarise
  left:
    needs: [top]
    run: echo
  deeper:
    needs: [left]
    run: echo
  bottom:
    needs: [top, right, deeper]
    run: echo
`,
    );
    expect(graph('diamond.yaml')).toBe(
      [
        'diamond: 5 steps in 4 layers (each step below all of its needs)',
        '',
        'layer 1  top',
        'layer 2  right (llm)  <- top',
        '         left         <- top',
        'layer 3  deeper       <- left',
        'layer 4  bottom       <- top, right, deeper',
        '',
      ].join('\n'),
    );
  });

  it('keeps a wide fan readable: one line per step, long needs wrapped under each other, the same every time', () => {
    const ids = Array.from({ length: 30 }, (_, i) => `shard_${String(i + 1).padStart(2, '0')}`);
    rig().write(
      'fan.yaml',
      `name: fan\nsteps:\n  split:\n    run: echo\n${ids.map((id) => `  ${id}:\n    needs: [split]\n    run: echo\n`).join('')}  gather:\n    needs: [${ids.join(', ')}]\n    run: echo\n`,
    );
    const out = graph('fan.yaml');
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('fan: 32 steps in 3 layers (each step below all of its needs)');
    expect(lines[2]).toBe('layer 1  split');
    expect(lines[3]).toBe('layer 2  shard_01  <- split');
    expect(lines.slice(3, 33).map((l) => l.trim().split(/\s+/).at(-3))).toEqual(ids);
    expect(lines[33]).toMatch(/^layer 3 {2}gather {4}<- shard_01, shard_02, /);
    const wrapped = lines.slice(34);
    expect(wrapped.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    for (const l of wrapped) expect(l).toMatch(/^ {22}shard_\d\d/);
    expect(lines.slice(33).join(' ').match(/shard_\d\d/g)).toEqual(ids);
    expect(graph('fan.yaml')).toBe(out);
  });

  it('marks fanned steps with how they fan out, in every format', () => {
    rig().write(
      'fanned.yaml',
      `${LIST_STEP}  build:
    matrix: { os: [linux, mac], node: [20, 22, 24] }
    run: echo \${{ matrix.os }}
  count:
    needs: [list]
    for_each: \${{ steps.list.outputs.files }}
    matrix: { mode: [fast, slow] }
    run: echo \${{ item }}
`,
    );
    // Wider than the name column (32): the label keeps its line, its needs start the next one, in the column.
    expect(graph('fanned.yaml')).toContain(`layer 1  list\n         build ×6 (matrix: os, node)\nlayer 2  count × each item ×2 (matrix: mode)\n${' '.repeat(41)}  <- list\n`);
    expect(graph('fanned.yaml', 'mermaid')).toContain('n1["build ×6 (matrix: os, node)"]');
    expect(graph('fanned.yaml', 'dot')).toContain('"count" [label="count × each item ×2 (matrix: mode)"];');
  });

  it('lines up every `<-` in one column, fanned or not, wider than the column or not, in any script', () => {
    rig().write(
      'fanned.yaml',
      `${LIST_STEP}  count:
    needs: [list]
    for_each: \${{ steps.list.outputs.files }}
    run: echo \${{ item }}
  build:
    needs: [list]
    matrix: { 系统: [linux, mac] }
    run: echo
  everything:
    needs: [list]
    for_each: \${{ steps.list.outputs.files }}
    matrix: { os: [linux, mac], node: [20, 22, 24] }
    run: echo
  report:
    needs: [count, build, everything]
    run: echo done
`,
    );
    const lines = graph('fanned.yaml').trimEnd().split('\n').slice(2);
    expect(lines).toEqual([
      'layer 1  list',
      'layer 2  count × each item                 <- list',
      '         build ×2 (matrix: 系统)           <- list',
      '         everything × each item ×6 (matrix: os, node)',
      '                                           <- list',
      'layer 3  report                            <- count, build, everything',
    ]);
    // In terminal cells (系 and 统 take two each): the same column on every row.
    const columns = lines.filter((l) => l.includes('<-')).map((l) => stringWidth(l.slice(0, l.indexOf('<-'))));
    expect(new Set(columns)).toEqual(new Set([43]));
  });

  it('a spec with a problem is refused as with every other format', () => {
    rig().write('bad.yaml', 'steps:\n  a:\n    needs: [b]\n    run: echo\n');
    const r = rig().run(['graph', 'bad.yaml', '--format', 'ascii']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bad\.yaml:3:13: step "a" needs unknown step "b"/);
  });
});
