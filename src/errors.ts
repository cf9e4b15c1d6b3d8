/** Codes of user errors: each maps to exit code 2 in the CLI. */
export type ErrorCode =
  | 'usage'
  | 'spec-read'
  | 'spec-syntax'
  | 'spec-invalid'
  | 'spec-cycle'
  | 'spec-expression'
  | 'unknown-job'
  | 'run-folder'
  | 'provider-config'
  | 'cache'
  | 'remote';

/** One problem a user can act on, with a location when a spec is at fault. */
export interface Diagnostic {
  code: ErrorCode;
  message: string;
  file?: string;
  line?: number;
  col?: number;
}

/** A user error (exit 2): one or more diagnostics, printed by the CLI without a stack. */
export class OrchestratorError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[] | Diagnostic) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list[0]?.message ?? 'error');
    this.diagnostics = list;
  }
}

/** `file:line:col: message` (or just the message when there is no location). */
export function formatDiagnostic(d: Diagnostic): string {
  if (d.file === undefined) return d.message;
  if (d.line === undefined) return `${d.file}: ${d.message}`;
  return `${d.file}:${d.line}:${d.col ?? 1}: ${d.message}`;
}

export type { StepError, StepErrorCode } from './events/types.js';
