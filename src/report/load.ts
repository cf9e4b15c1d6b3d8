import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError, formatDiagnostic } from '../errors.js';
import type { RunEvent } from '../events/types.js';
import { readJournal } from '../store/journal.js';
import { readStepShapes, type StepShape } from '../store/spec-copy.js';
import { readLogEnd } from '../store/log-tail.js';
import type { JobManifest } from '../store/manifest.js';
import { parseUntrustedJson } from '../util/json.js';
import { runFileProblem } from '../store/run-file.js';
import { digestFans, type LogTail, type ReportInput, type ReportStep } from './model.js';

/** How much of each log a report holds: the end, where failures show. */
export const LOG_TAIL_BYTES = 64 * 1024;

function folderError(file: string, e: unknown): OrchestratorError {
  const detail = e instanceof OrchestratorError ? e.diagnostics.map(formatDiagnostic).join('; ') : (e as Error).message;
  return new OrchestratorError({ code: 'run-folder', message: `cannot read ${file}: ${detail}` });
}


/** The last `max` bytes of a step's log, from a line start when one is near; undefined if there is no log. */
export function readLogTail(file: string, max = LOG_TAIL_BYTES): LogTail | undefined {
  // The log itself is opened without following a link (log-tail.ts); a logs/ folder that is a link is not read either.
  if (fs.lstatSync(path.dirname(file), { throwIfNoEntry: false })?.isSymbolicLink()) return undefined;
  try {
    return readLogEnd(file, max);
  } catch (e) {
    throw folderError(file, e);
  }
}

/** A step's `outputs` from outputs/<id>.json: undefined when it has none; a problem when the file is unreadable. */
function readOutputs(file: string): { outputs?: Record<string, unknown>; problem?: string } {
  const refused = runFileProblem(file);
  if (refused) return { problem: `${file} is not read: ${refused}` };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `cannot read ${file}: ${(e as Error).message}` };
  }
  const parsed = parseUntrustedJson(text);
  if ('error' in parsed) return { problem: `${file} is damaged (it is ${parsed.error})` };
  const o = (parsed.value as { outputs?: unknown } | null)?.outputs;
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? { outputs: o as Record<string, unknown> } : {};
}

/** Every file the run recorded: the manifest's files[] (made at job end) and the journal's settle events (before it). */
function recordedFiles(manifest: JobManifest, events: RunEvent[]): Set<string> {
  const fromEvents = events.flatMap((e) => ('files' in e && e.files ? e.files.map((f) => f.path) : []));
  return new Set([...manifest.files.map((f) => f.path), ...fromEvents]);
}

/**
 * Gather what a report shows from a run folder: the journal (`journal`, when the caller has read it already), the
 * spec copy's graph, each step's outputs and log tail. What is missing or damaged (other than the journal) is left
 * out and named in `warnings`.
 */
export function loadReportInput(dir: string, manifest: JobManifest, journal?: RunEvent[]): ReportInput {
  const eventsFile = path.join(dir, 'events.jsonl');
  let events: RunEvent[];
  try {
    events = journal ?? readJournal(eventsFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw folderError(eventsFile, e);
    events = [];
  }
  const warnings: string[] = [];
  const recorded = recordedFiles(manifest, events);
  // A file the run recorded that is gone is named, as `show --logs` names it; a step that printed nothing has no log to miss.
  const noteMissing = (rel: string, id: string) => {
    if (recorded.has(rel) && !fs.existsSync(path.join(dir, rel))) warnings.push(`${path.join(dir, rel)} is missing: the run recorded it when ${id} settled`);
  };
  let graph: Map<string, StepShape> | undefined;
  try {
    graph = readStepShapes(dir);
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    warnings.push(`${e.message}: the graph shows no edges`);
  }
  // Instances of a big fan-out that the report does not list: their files are not read (the timeline needs only their events).
  const { unlisted } = digestFans(manifest);
  const steps: ReportStep[] = Object.keys(manifest.steps).map((id) => {
    const of = manifest.steps[id]!.instance_of;
    const g = graph?.get(of ?? id); // an instance is its fanned step's shape
    if (!g && graph) warnings.push(`${path.join(dir, 'inputs')}: the spec copy has no step "${id}", which the manifest lists: drawn without its edges`);
    const shape: ReportStep = { id, kind: g?.kind ?? 'shell', needs: g?.needs ?? [], ...(of !== undefined ? { instanceOf: of } : {}) };
    if (unlisted.has(id)) return shape;
    // A step not yet settled (or never settled: interrupted by a kill) has an empty outputs file made ahead of time,
    // or none: nothing to read, nothing wrong.
    const status = manifest.steps[id]!.status;
    const { outputs, problem } = status === 'pending' || status === 'running' || status === 'interrupted' ? {} : readOutputs(path.join(dir, 'outputs', `${id}.json`));
    if (problem) warnings.push(problem);
    const log = readLogTail(path.join(dir, 'logs', `${id}.log`));
    noteMissing(`outputs/${id}.json`, id);
    noteMissing(`logs/${id}.log`, id);
    return { ...shape, ...(outputs ? { outputs } : {}), ...(log ? { log } : {}) };
  });
  return { manifest, events, steps, generatedAt: new Date().toISOString(), warnings };
}
