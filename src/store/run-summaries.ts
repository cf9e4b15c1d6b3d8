import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { writeAtomic } from './atomic.js';
import type { JobManifest } from './manifest.js';
import { historyFile } from './run-dir.js';
import { readManifest } from './runs.js';
import { makeFolder } from '../util/make-folder.js';

const summariesFile = (runsDir: string) => historyFile(runsDir, 'runs.json');

/** What the lists of runs (`list-runs`, the web app's runs page) show of a job. */
export interface RunSummary {
  job_id: string;
  name: string;
  status: string;
  started_at: string | null;
  duration_s: number | null;
  /** What ran, by status: each instance of a fanned step, not the fanned step itself (as run's end-of-run summary counts). */
  ran: Record<string, number>;
  /** Top-level steps by status: a fanned step counts once. */
  top: Record<string, number>;
  /** Why the run folder cannot be read as it is, when it cannot. */
  damaged?: string;
}

/** A finished job's summary, and the stat of the manifest.json it was read from. */
interface Remembered {
  size: number;
  mtime_ns: string;
  ino: string;
  summary: RunSummary;
}

/** A job's summary from its manifest. */
export function summaryOf(m: JobManifest): RunSummary {
  const ran: Record<string, number> = {};
  const top: Record<string, number> = {};
  for (const r of Object.values(m.steps)) {
    if (r.instances === undefined) ran[r.status] = (ran[r.status] ?? 0) + 1;
    if (r.instance_of === undefined) top[r.status] = (top[r.status] ?? 0) + 1;
  }
  return { job_id: m.job_id, name: m.name, status: m.damaged ? 'damaged' : m.status, started_at: m.started_at, duration_s: m.duration_s, ran, top, ...(m.damaged ? { damaged: m.damaged } : {}) };
}

/**
 * The summaries of finished jobs, remembered in the runs folder (`.history/runs.json`) by their manifest's size,
 * mtime and inode, as input hashes are: a finished job's manifest is never written again, so a list reads each
 * one once. Reading and checking a manifest costs ~0.25 s for a job of 10,000 instances (5 MB), and a list of
 * twenty such jobs took seconds. A manifest whose stat changed is read and checked again; a job still running,
 * or one whose folder is damaged, is read every time.
 */
export class RunSummaries {
  readonly #runsDir: string;
  readonly #file: string;
  readonly #known: Record<string, Remembered>;
  #changed = false;

  private constructor(runsDir: string, known: Record<string, Remembered>, torn: boolean) {
    this.#runsDir = runsDir;
    this.#file = summariesFile(runsDir);
    this.#known = known;
    this.#changed = torn;
  }

  /** The summaries remembered in `runsDir` (none yet, or an unreadable file: none, and each job is read again). */
  static open(runsDir: string): RunSummaries {
    let known: Record<string, Remembered> | undefined;
    let text: string | undefined;
    try {
      text = fs.readFileSync(summariesFile(runsDir), 'utf8');
      const parsed = JSON.parse(text) as { runs?: Record<string, Remembered> } | null;
      if (parsed?.runs && typeof parsed.runs === 'object') known = parsed.runs;
    } catch {
      // none yet, or torn: the manifests are read, and (torn) the file is written anew
    }
    return new RunSummaries(runsDir, known ?? {}, text !== undefined && known === undefined);
  }

  /** A job's summary: remembered while its manifest's stat is the same, else read (readManifest: a damaged one says so). */
  summary(jobId: string): RunSummary {
    const file = path.join(this.#runsDir, jobId, 'manifest.json');
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.statSync(file, { bigint: true });
    } catch {
      // no manifest (killed before its first one): readManifest rebuilds what it can from the journal
    }
    const known = this.#known[jobId];
    if (st && isRemembered(known) && known.size === Number(st.size) && known.mtime_ns === st.mtimeNs.toString() && known.ino === st.ino.toString()) return known.summary;
    const summary = summaryOf(readManifest(this.#runsDir, jobId));
    if (st && !summary.damaged && summary.status !== 'running' && summary.status !== 'interrupted') {
      this.#known[jobId] = { size: Number(st.size), mtime_ns: st.mtimeNs.toString(), ino: st.ino.toString(), summary };
      this.#changed = true;
    }
    return summary;
  }

  /**
   * Keep what was read for the next list, forgetting jobs whose folders are gone (`ids`: the job ids there now).
   * A runs folder this user cannot write (another user's, a CI artifact) is listed all the same: the next list
   * reads the manifests again.
   */
  save(ids: readonly string[]): void {
    const present = new Set(ids);
    for (const id of Object.keys(this.#known)) {
      if (!present.has(id)) {
        delete this.#known[id];
        this.#changed = true;
      }
    }
    if (!this.#changed) return;
    try {
      makeFolder(path.dirname(this.#file));
      writeAtomic(this.#file, JSON.stringify({ runs: this.#known }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS' && code !== 'ENOSPC') throw new OrchestratorError({ code: 'run-folder', message: `cannot write ${this.#file}: ${(e as Error).message}` });
    }
  }
}

/** An entry of runs.json as this version writes it (a hand-edited one that is not is read again from its manifest). */
function isRemembered(x: unknown): x is Remembered {
  const r = x as Partial<Remembered> | null | undefined;
  if (typeof r !== 'object' || r === null || typeof r.size !== 'number' || typeof r.mtime_ns !== 'string' || typeof r.ino !== 'string') return false;
  const s = r.summary as Partial<RunSummary> | null | undefined;
  if (typeof s !== 'object' || s === null || typeof s.job_id !== 'string' || typeof s.name !== 'string' || typeof s.status !== 'string') return false;
  const counts = (c: unknown) => typeof c === 'object' && c !== null && Object.values(c).every((n) => typeof n === 'number');
  return (s.started_at === null || typeof s.started_at === 'string') && (s.duration_s === null || typeof s.duration_s === 'number') && counts(s.ran) && counts(s.top);
}
