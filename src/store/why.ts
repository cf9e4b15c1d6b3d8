import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { listJobIds } from './runs.js';

/** One part of a step's key that differs from the earlier run's (SPEC §11). */
export interface KeyDifference {
  /** `input`, `env`, `needs`, `script`, `script_value` (an expression's value), `shell`, `cwd`, `step_env`, `matrix`, `item`, `outputs`, `output`, `format`. */
  part: string;
  /** The input path, env var or needed step, where the part has names. */
  name?: string;
  old: unknown;
  new: unknown;
}

/** What `show <job> --why <step>` says: hit or miss, and for a miss what changed since the step's last run. */
export interface WhyReport {
  job_id: string;
  step: string;
  verdict: 'hit' | 'miss' | 'not-cached';
  cache_key: string | null;
  /** The most recent earlier run of the step that recorded a key; null when there is none. */
  previous: { job_id: string; cache_key: string } | null;
  differences: KeyDifference[];
  /** One sentence for people. */
  summary: string;
  /** A fanned step (matrix / for_each): its instances' verdicts, counted; each instance answers `--why` itself. */
  instances?: { hit: number; miss: number; not_cached: number; missed: string[] };
}

interface StepRecordFile {
  cached?: boolean;
  /** Carried over from an earlier job by resume or rerun: no cache was looked up. */
  reused?: boolean;
  cache_key?: string;
  cache_key_parts?: Record<string, unknown>;
  /** A fanned step's record: its instances in order. */
  results?: { id: string }[];
}

/** Explain the cache outcome of `step` in job `jobId` by comparing its key parts with its last earlier run's. */
export function explainStep(runsDir: string, jobId: string, step: string): WhyReport {
  const mine = readRecord(runsDir, jobId, step, true);
  if (!mine) throw new OrchestratorError({ code: 'usage', message: `--why: job ${jobId} has no outputs/${step}.json (no such step, or it did not run)` });
  const base = { job_id: jobId, step, cache_key: mine.cache_key ?? null };
  if (Array.isArray(mine.results)) return explainFanned(runsDir, jobId, step, mine.results);
  if (mine.reused) {
    const from = readManifestRef(runsDir, jobId);
    return { ...base, verdict: 'not-cached', previous: null, differences: [], summary: `step "${step}" was reused${from ? ` from job ${from}` : ''} (resume or rerun): its result was carried over, no cache was looked up; \`show ${from ?? '<that job>'} --why ${step}\` explains that job's` };
  }
  if (!mine.cache_key || !mine.cache_key_parts) {
    return { ...base, verdict: 'not-cached', previous: null, differences: [], summary: `step "${step}" has no cache key: it has no cache: (or cache: false), or it stopped before its key was made` };
  }
  if (mine.cached) return { ...base, verdict: 'hit', previous: null, differences: [], summary: `hit: key ${mine.cache_key.slice(0, 12)}… was stored; no process ran` };
  const earlier = findEarlier(runsDir, jobId, step);
  if (!earlier) return { ...base, verdict: 'miss', previous: null, differences: [], summary: `miss: no earlier run of "${step}" in ${runsDir} recorded a key to compare with` };
  const previous = { job_id: earlier.jobId, cache_key: earlier.record.cache_key! };
  const differences = diffParts(earlier.record.cache_key_parts!, mine.cache_key_parts);
  let summary: string;
  if (previous.cache_key === mine.cache_key) {
    summary = `miss with the same key as job ${earlier.jobId}: its entry was not in the cache (not stored, pruned, cleared or damaged) or could not be restored (the run warned why), or the cache was not read (--no-cache, --force)`;
  } else if (differences.length === 0) {
    summary = `miss: the key differs from job ${earlier.jobId}'s in a value masked as a secret`;
  } else {
    summary = `miss: since job ${earlier.jobId}, ${differences.map(describeDifference).join('; ')}`;
  }
  return { ...base, verdict: 'miss', previous, differences, summary };
}

/** A fanned step has no key of its own: each instance has one. Counted, and the misses named (the first few in the summary). */
function explainFanned(runsDir: string, jobId: string, step: string, results: { id: string }[]): WhyReport {
  const instances = { hit: 0, miss: 0, not_cached: 0, missed: [] as string[] };
  for (const { id } of results) {
    const r = readRecord(runsDir, jobId, id, true);
    if (!r?.cache_key) instances.not_cached++;
    else if (r.cached) instances.hit++;
    else {
      instances.miss++;
      instances.missed.push(id);
    }
  }
  const shown = instances.missed.slice(0, 3).join(', ') + (instances.missed.length > 3 ? ', …' : '');
  const ask = instances.missed[0] ?? results[0]?.id;
  const summary =
    `step "${step}" is fanned out into ${results.length} instance${results.length === 1 ? '' : 's'}, each with a key of its own: ` +
    `${instances.hit} hit, ${instances.miss} missed${shown ? ` (${shown})` : ''}, ${instances.not_cached} without a key` +
    (ask ? `; --why ${ask} explains one` : '');
  return { job_id: jobId, step, verdict: 'not-cached', cache_key: null, previous: null, differences: [], summary, instances };
}

/** A difference as a person reads it. */
export function describeDifference(d: KeyDifference): string {
  const short = (v: unknown) => (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? `${v.slice(0, 12)}…` : JSON.stringify(v ?? null));
  switch (d.part) {
    case 'input':
      return d.old === null ? `input ${d.name} is new (${short(d.new)})` : d.new === null ? `input ${d.name} is gone` : `input ${d.name} changed (${short(d.old)} → ${short(d.new)})`;
    case 'env':
      return `env ${d.name} changed (${short(d.old)} → ${short(d.new)})`;
    case 'step_env':
      return `the step's env ${d.name} changed (${short(d.old)} → ${short(d.new)})`;
    case 'needs':
      return `the result of needed step "${d.name}" changed`;
    case 'script':
      return 'the script changed';
    case 'script_value':
      return `the value of an expression in the script changed (${d.name}: ${short(d.old)} → ${short(d.new)})`;
    default:
      return `${d.part} changed (${short(d.old)} → ${short(d.new)})`;
  }
}

function diffParts(old: Record<string, unknown>, now: Record<string, unknown>): KeyDifference[] {
  const out: KeyDifference[] = [];
  const named: Record<string, string> = { inputs: 'input', env: 'env', step_env: 'step_env', needs: 'needs', script_values: 'script_value' };
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  for (const part of new Set([...Object.keys(old), ...Object.keys(now)])) {
    if (part in named) {
      const a = (old[part] ?? {}) as Record<string, unknown>;
      const b = (now[part] ?? {}) as Record<string, unknown>;
      for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        if (!same(a[name], b[name])) out.push({ part: named[part]!, name, old: a[name] ?? null, new: b[name] ?? null });
      }
    } else if (!same(old[part], now[part])) {
      out.push({ part, old: old[part] ?? null, new: now[part] ?? null });
    }
  }
  return out;
}

/**
 * A step's record in a job; undefined when it has none. One that cannot be read or parsed is an error for the job
 * asked about (`strict`), and passed over in earlier jobs, which only serve as something to compare with.
 */
function readRecord(runsDir: string, jobId: string, step: string, strict = false): StepRecordFile | undefined {
  const file = path.join(runsDir, jobId, 'outputs', `${step}.json`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StepRecordFile;
  } catch (e) {
    if (!strict || (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OrchestratorError({ code: 'run-folder', message: `--why: ${file} cannot be read: ${(e as Error).message}` });
  }
}

/** The job a resumed or re-run job carried its reused steps over from, if its manifest says. */
function readManifestRef(runsDir: string, jobId: string): string | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(runsDir, jobId, 'manifest.json'), 'utf8')) as { resumed_from?: unknown; rerun_of?: unknown };
    const from = m.resumed_from ?? m.rerun_of;
    return typeof from === 'string' ? from : undefined;
  } catch {
    return undefined; // the summary says "reused" without naming the job
  }
}

/** The newest job before `jobId` (same spec file) whose record of `step` has a key. */
function findEarlier(runsDir: string, jobId: string, step: string): { jobId: string; record: StepRecordFile } | undefined {
  const specOf = (id: string): string | undefined => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(runsDir, id, 'manifest.json'), 'utf8')) as { spec?: { path?: string } }).spec?.path;
    } catch {
      return undefined;
    }
  };
  const spec = specOf(jobId);
  const ids = listJobIds(runsDir).filter((id) => id < jobId).sort().reverse();
  for (const id of ids) {
    const record = readRecord(runsDir, id, step);
    if (record?.cache_key && record.cache_key_parts && specOf(id) === spec) return { jobId: id, record };
  }
  return undefined;
}
