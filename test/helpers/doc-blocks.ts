// Fenced code blocks of the user docs (README.md, docs/*.md), with the marker comment written above each one,
// so that tests can hold every example to what the CLI does.
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.js';

/** One fenced block: where it starts, its language, its marker (`<!-- fragment -->` → 'fragment') and its text. */
export interface DocBlock {
  /** Path relative to the repository, e.g. `README.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  marker: string | undefined;
  text: string;
}

/** README.md and every docs/*.md, relative to the repository. */
export function docFiles(): string[] {
  const docs = fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)];
}

/** The fenced blocks of one markdown file, in order. */
export function readDocBlocks(file: string): DocBlock[] {
  const lines = fs.readFileSync(path.join(REPO, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !new RegExp(`^${fence}\\s*$`).test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ file, line: start + 1, lang: open[2]!, marker: markerAbove(lines, start), text: `${body.join('\n')}\n` });
  }
  return blocks;
}

/** `<!-- word -->` on the nearest non-blank line above a fence. */
function markerAbove(lines: string[], fence: number): string | undefined {
  let j = fence - 1;
  while (j >= 0 && lines[j]!.trim() === '') j--;
  return j >= 0 ? /^<!--\s*([\w-]+)\s*-->$/.exec(lines[j]!.trim())?.[1] : undefined;
}
