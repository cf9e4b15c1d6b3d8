import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { nearest } from '../util/suggest.js';
import { isJobId } from './job-id.js';
import type { RunEvent } from '../events/types.js';
import { readJournal, type JournalReader } from './journal.js';
import { ManifestBuilder, type JobManifest } from './manifest.js';
import os from 'node:os';
import { parseUntrustedJson } from '../util/json.js';
import { checkManifest } from './record-schema.js';
import { hashFile, listFiles, type FileRecord } from './hash.js';
import { processStartId } from '../util/process-start.js';

/** Job ids in a runs folder, oldest first (ids sort by start time). */
export function listJobIds(runsDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new OrchestratorError({ code: 'run-folder', message: `cannot read runs folder ${runsDir}: ${(e as Error).message}` });
  }
  return names.filter(isJobId).sort();
}

/** A job named by its id, a unique prefix, or `latest`. */
export function resolveJob(runsDir: string, ref: string): string {
  const ids = listJobIds(runsDir);
  if (ref === 'latest') {
    const last = ids[ids.length - 1];
    if (!last) throw new OrchestratorError({ code: 'unknown-job', message: `no runs in ${runsDir} yet` });
    return last;
  }
  const matches = ids.filter((id) => id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    const shown = matches.slice(-10).reverse().join('\n  ');
    throw new OrchestratorError({ code: 'unknown-job', message: `"${ref}" matches ${matches.length} jobs; give more of the id:\n  ${shown}` });
  }
  const near = nearest(ref, ids, 3);
  const hint = near.length > 0 ? `; did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : ids.length > 0 ? `; the newest is "${ids[ids.length - 1]}" (or say "latest")` : '';
  throw new OrchestratorError({ code: 'unknown-job', message: `no job "${ref}" in ${runsDir}${hint}` });
}

/**
 * Whether the process that wrote a `running` manifest is still alive on this host. A process under its pid that is
 * not the one the job recorded (`pid_start`: on Linux, where /proc tells) is another one, the pid reused.
 */
export function isWriterAlive(m: JobManifest): boolean {
  if (m.hostname !== os.hostname()) return true; // another machine's job: we cannot tell, so we do not claim it died
  if (!(m.pid > 0)) return false; // never recorded (and kill(-1 or 0) would signal a whole group)
  try {
    process.kill(m.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (m.pid_start === undefined) return true; // a job of an earlier version, or not on Linux: the pid alone decides
  const now = processStartId(m.pid);
  return now === undefined || now === m.pid_start;
}

/**
 * Read a job's manifest; a `running` job is replayed from its journal, and reported `interrupted` if its
 * process is gone. A manifest that is not what this version writes (wrong types, fields missing, not JSON)
 * is rebuilt from the journal when that can be done, with `damaged` saying what was wrong; when it cannot,
 * the error says what is missing. `onJournal` is given the journal's events when they were read for that (a
 * running job), so that a caller who needs them too does not read and check them a second time; `journal`, a
 * reader of it kept by a caller that asks again and again (the web app), reads only what it gained since.
 */
export function readManifest(runsDir: string, jobId: string, o: { journal?: JournalReader; onJournal?: (events: RunEvent[]) => void } = {}): JobManifest {
  const dir = path.join(runsDir, jobId);
  const file = path.join(dir, 'manifest.json');
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    // Killed between creating the folder and writing the first manifest: the journal says what there is.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${file}: ${(e as Error).message}` });
    }
  }
  let m: JobManifest;
  let damaged: string | undefined;
  if (text === undefined) m = manifestFromJournalStart(dir, jobId);
  else {
    const parsed = parseUntrustedJson(text);
    const checked = 'error' in parsed ? { problem: `it is ${parsed.error}` } : checkManifest(parsed.value);
    if ('manifest' in checked) m = checked.manifest;
    else {
      damaged = `${file} is damaged (${checked.problem})`;
      m = manifestFromJournalStart(dir, jobId);
      if (m.pid === -1) throw new OrchestratorError({ code: 'run-folder', message: `${damaged}, and events.jsonl has no job.started event to rebuild it from` });
    }
  }
  if (m.status !== 'running') return m;
  const live = replayJournal(dir, m, o);
  if (damaged) live.damaged = damaged;
  // A journal that ends in job.finished is a finished job, whatever became of its manifest.
  if (live.status !== 'running' || isWriterAlive(m)) return live;
  live.status = 'interrupted';
  for (const s of Object.values(live.steps)) {
    if (s.status === 'running') s.status = 'interrupted';
  }
  return live;
}

/**
 * The files of a job that has not finished (its manifest lists none yet), hashed now: all but manifest.json,
 * events.jsonl and the scratch folder `.work/`, which the job removes when it ends and which a final manifest
 * never lists. A file that goes between the listing and its hashing is left out: a running job's files come
 * and go, and after a kill -9 its launcher or watchdog removes `.work/` while a reader may be looking.
 */
export function filesOfUnfinishedJob(dir: string): FileRecord[] {
  const files: FileRecord[] = [];
  for (const p of listFiles(dir)) {
    if (p === 'manifest.json' || p === 'events.jsonl' || p.startsWith('.work/')) continue;
    try {
      files.push(hashFile(dir, p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return files;
}

/** Rebuild a manifest from events.jsonl: the journal is the truth while a job runs or after a crash. */
export function replayJournal(dir: string, start: JobManifest, o: { journal?: JournalReader; onJournal?: (events: RunEvent[]) => void } = {}): JobManifest {
  let events: RunEvent[];
  try {
    events = o.journal ? o.journal.read() : readJournal(path.join(dir, 'events.jsonl'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${path.join(dir, 'events.jsonl')}: ${(e as Error).message}` });
    }
    events = []; // died before its first event
  }
  const builder = new ManifestBuilder({ jobId: start.job_id, name: start.name, specPath: start.spec.path, specSha256: start.spec.sha256, concurrency: start.concurrency, startedAt: start.started_at });
  Object.assign(builder.manifest, { pid: start.pid, hostname: start.hostname, steps: { ...start.steps } });
  for (const id of Object.keys(builder.manifest.steps)) builder.manifest.steps[id] = { ...builder.manifest.steps[id]! };
  for (const e of events) builder.emit(e);
  o.onJournal?.(events);
  return builder.manifest;
}

/** The starting manifest of a job that died before writing one: from its `job.started` event, if it got that far. */
function manifestFromJournalStart(dir: string, jobId: string): JobManifest {
  let started: Extract<RunEvent, { type: 'job.started' }> | undefined;
  try {
    started = readJournal(path.join(dir, 'events.jsonl')).find((e): e is Extract<RunEvent, { type: 'job.started' }> => e.type === 'job.started');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${path.join(dir, 'events.jsonl')}: ${(e as Error).message}` });
    }
  }
  const builder = new ManifestBuilder({
    jobId,
    name: started?.name ?? '(never started)',
    specPath: started?.spec_path ?? '',
    specSha256: '',
    concurrency: started?.concurrency ?? 0,
    startedAt: started?.ts ?? folderTime(dir, jobId),
  });
  // No pid recorded means the process died before its first event: it cannot be alive.
  Object.assign(builder.manifest, { pid: started?.pid ?? -1, hostname: os.hostname() });
  if (started) builder.emit(started);
  return builder.manifest;
}

/**
 * When a run folder with no records was made. A folder that is not there (removed since it was listed, as `prune`
 * does while a list reads; a link to nothing) is no job: `unknown-job`, which the lists skip, rather than a crash.
 */
function folderTime(dir: string, jobId: string): string {
  try {
    return fs.statSync(dir).mtime.toISOString();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new OrchestratorError({ code: 'unknown-job', message: `no job "${jobId}" in ${path.dirname(dir)}: its run folder is gone` });
    throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${dir}: ${(e as Error).message}` });
  }
}
