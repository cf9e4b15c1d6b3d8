// GitHub Actions' workflow commands (https://docs.github.com/actions/reference/workflow-commands-for-github-actions):
// lines such as `::error file=spec.yaml,line=3::message` that the runner reads from a step's output.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Diagnostic } from '../../errors.js';
import { realPathOf } from '../../util/links.js';
import { STDIN_NAME } from '../../specfile/load.js';
import type { JobManifest } from '../../store/manifest.js';

/** GitHub shows at most 10 error annotations of a step: past that, the last one we print counts the rest. */
export const MAX_ERROR_ANNOTATIONS = 10;

/** Whether this process runs as a step of a GitHub Actions job (the runner sets `GITHUB_ACTIONS=true`). */
export function isGithubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** A command's message, escaped as the runner unescapes it: `%`, CR and LF. */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** A command's property value: as data, and also `:` and `,` (which end a property). */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/** What one workflow command says: `::name key=value,…::message`. */
export interface WorkflowCommand {
  name: string;
  properties?: Record<string, string | number | undefined>;
  message?: string;
}

/** One workflow command line (without its newline), every value escaped. */
export function formatCommand({ name, properties = {}, message = '' }: WorkflowCommand): string {
  const props = Object.entries(properties)
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${name}${props === '' ? '' : ` ${props}`}::${escapeData(message)}`;
}

/** `::add-mask::` for each secret value, and for each line of a value on several lines (the runner masks line by line). */
export function maskCommands(values: readonly string[]): string[] {
  const masks = new Set<string>();
  for (const v of values) {
    masks.add(v);
    for (const line of v.split(/\r?\n/)) if (line.trim() !== '') masks.add(line);
  }
  return [...masks].map((v) => formatCommand({ name: 'add-mask', message: v }));
}

/**
 * Text we print that a step wrote (log tails), folded under a title and fenced off with `::stop-commands::`:
 * between the token lines the runner runs no command, so a log line such as `::error::…` or `::add-mask::` stays
 * text. The token is random per block, so the log cannot end the fence early.
 */
export function foldUntrusted(title: string, lines: readonly string[]): string[] {
  const token = randomBytes(16).toString('hex');
  return [formatCommand({ name: 'group', message: title }), formatCommand({ name: 'stop-commands', message: token }), ...lines, `::${token}::`, '::endgroup::'];
}

/** Each failed step (a fanned step once, not each instance) as an `::error` annotation titled with its id. */
export function stepAnnotations(m: JobManifest): string[] {
  const failed = Object.entries(m.steps).filter(([, s]) => s.status === 'failed' && s.instance_of === undefined);
  const shown = failed.length > MAX_ERROR_ANNOTATIONS ? failed.slice(0, MAX_ERROR_ANNOTATIONS - 1) : failed;
  const lines = shown.map(([id, s]) =>
    formatCommand({ name: 'error', properties: { title: id }, message: `${s.error?.code ?? 'failed'}: ${s.error?.message ?? ''}${s.attempts > 1 ? ` (after ${s.attempts} attempts)` : ''}` }),
  );
  if (shown.length < failed.length) {
    const rest = failed.slice(shown.length).map(([id]) => id);
    lines.push(formatCommand({ name: 'error', properties: { title: `${rest.length} more failed steps` }, message: `${rest.slice(0, 50).join(', ')}${rest.length > 50 ? ', …' : ''}: see the job summary` }));
  }
  return lines;
}

/**
 * Diagnostics as `::error file=…,line=…,col=…` annotations, so a spec's line is marked in the pull request. The
 * runner wants the path from the repository's root (`GITHUB_WORKSPACE`, compared by real path: it may be a link); a
 * file outside it is given whole (a path relative to here would name another file there). A spec read from stdin is
 * no file: its place goes into the message.
 */
export function diagnosticAnnotations(diagnostics: readonly Diagnostic[], env: NodeJS.ProcessEnv = process.env): string[] {
  return diagnostics.map((d) => {
    const title = `orchestrator: ${d.code}`;
    if (d.file !== undefined && path.basename(d.file) === STDIN_NAME) {
      const at = d.line === undefined ? '' : ` (${STDIN_NAME}:${d.line}${d.col === undefined ? '' : `:${d.col}`})`;
      return formatCommand({ name: 'error', properties: { title }, message: `${d.message}${at}` });
    }
    return formatCommand({ name: 'error', properties: { file: d.file === undefined ? undefined : workspacePath(d.file, env.GITHUB_WORKSPACE), line: d.line, col: d.col, title }, message: d.message });
  });
}

/** The diagnostics' annotations on stdout, or on stderr when stdout carries a JSON document. */
export function printDiagnosticAnnotations(diagnostics: readonly Diagnostic[], json: boolean | undefined): void {
  (json ? process.stderr : process.stdout).write(diagnosticAnnotations(diagnostics).map((l) => `${l}\n`).join(''));
}

function workspacePath(file: string, workspace: string | undefined): string {
  if (workspace === undefined || file === '-' || file === '/dev/stdin') return file;
  const real = (p: string) => realPathOf(p) ?? path.resolve(p);
  const rel = path.relative(real(workspace), real(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(file);
}
