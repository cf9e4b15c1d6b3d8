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

/**
 * A fanned step with more instances than this is a digest in the report: its instances packed into lanes on the
 * timeline, and only those that did not succeed (at most this many) listed in the table and given a card.
 */
export const INSTANCE_ROWS_MAX = 50;

/** Which instances the table and cards list first, when not all of them are listed. */
const LISTED_FIRST: readonly ReportStatus[] = ['failed', 'interrupted', 'cancelled', 'running', 'pending', 'skipped'];

/** The instances of a big fanned step that the table and cards leave out, counted by status. */
export interface FanDigest {
  /** The step's instances. */
  total: number;
  /** How many of them are left out, by status. */
  unlisted: Map<ReportStatus, number>;
}

/**
 * Of every fanned step with more than INSTANCE_ROWS_MAX instances: the instances the report leaves out of its
 * table and cards (those that succeeded, and past INSTANCE_ROWS_MAX the rest, in the order of LISTED_FIRST,
 * then instance order), and what they were. A fan-out of 10,000 instances made a 9 MB page of a row and a card
 * each (and the web app's run page redrew it all on every event); what a reader looks for there is what failed.
 * From the manifest alone, so that a report reads no log or outputs file of an instance it leaves out.
 */
export function digestFans(m: JobManifest): { unlisted: Set<string>; digests: Map<string, FanDigest> } {
  const byFan = new Map<string, string[]>();
  for (const [id, r] of Object.entries(m.steps)) {
    if (r.instance_of === undefined) continue;
    const list = byFan.get(r.instance_of);
    if (list) list.push(id);
    else byFan.set(r.instance_of, [id]);
  }
  const unlisted = new Set<string>();
  const digests = new Map<string, FanDigest>();
  for (const [of, ids] of byFan) {
    if (ids.length <= INSTANCE_ROWS_MAX) continue;
    const rank = (id: string) => {
      const i = LISTED_FIRST.indexOf(m.steps[id]!.status);
      return i < 0 ? LISTED_FIRST.length : i;
    };
    // Stable: instance order within a status.
    const listed = new Set(ids.filter((id) => rank(id) < LISTED_FIRST.length).sort((a, b) => rank(a) - rank(b)).slice(0, INSTANCE_ROWS_MAX));
    const counts = new Map<ReportStatus, number>();
    for (const id of ids) {
      if (listed.has(id)) continue;
      unlisted.add(id);
      const status = m.steps[id]!.status;
      counts.set(status, (counts.get(status) ?? 0) + 1);
    }
    digests.set(of, { total: ids.length, unlisted: counts });
  }
  return { unlisted, digests };
}

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
