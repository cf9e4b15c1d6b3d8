import type { RunEvent } from '../events/types.js';
import type { JobManifest, StepRecord } from '../store/manifest.js';

/** The end of a step's log, as much as a report shows. */
export interface LogTail {
  text: string;
  /** Bytes before `text` that the report leaves out (0: the whole log). */
  omittedBytes: number;
}

/** What the report knows of one step besides its manifest record. */
export interface ReportStep {
  id: string;
  kind: 'shell' | 'llm';
  needs: string[];
  /** An instance of a fanned step: that step's id (the graph shows the fanned step, the timeline each instance). */
  instanceOf?: string;
  /** The step's `outputs` (from outputs/<id>.json), or undefined when it wrote none. */
  outputs?: Record<string, unknown>;
  /** The end of logs/<id>.log, or undefined when the step has no log. */
  log?: LogTail;
}

/** Everything `renderReport` turns into a page: no file access happens while rendering. */
export interface ReportInput {
  manifest: JobManifest;
  events: RunEvent[];
  /** In the spec's order. */
  steps: ReportStep[];
  /** When the report was made (ISO 8601), for the footer. */
  generatedAt: string;
  /** What the run folder lacks that the report would have shown (a spec copy, a readable outputs file). */
  warnings: string[];
}

/** A step's status as a report shows it. */
export type ReportStatus = StepRecord['status'];

/** The mark shown next to a status: never colour alone. */
export function statusIcon(status: ReportStatus | JobManifest['status']): string {
  switch (status) {
    case 'succeeded':
      return '✓';
    case 'failed':
      return '✗';
    case 'skipped':
      return '⊘';
    case 'cancelled':
      return '■';
    case 'running':
      return '●';
    case 'pending':
      return '○';
    case 'interrupted':
      return '⚠';
    default: {
      const _x: never = status;
      return String(_x);
    }
  }
}

/** Milliseconds since the epoch of an ISO timestamp, or undefined. */
export function timeOf(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}
