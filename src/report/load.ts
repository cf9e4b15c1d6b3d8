import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError, formatDiagnostic } from '../errors.js';
import type { RunEvent } from '../events/types.js';
import { readJournal } from '../store/journal.js';
import { readStepShapes } from '../store/spec-copy.js';
import { readLogEnd } from '../store/log-tail.js';
import type { JobManifest } from '../store/manifest.js';
import type { LogTail, ReportInput, ReportStep } from './model.js';

/** How much of each log a report holds: the end, where failures show. */
export const LOG_TAIL_BYTES = 64 * 1024;

function folderError(file: string, e: unknown): OrchestratorError {
  const detail = e instanceof OrchestratorError ? e.diagnostics.map(formatDiagnostic).join('; ') : (e as Error).message;
  return new OrchestratorError({ code: 'run-folder', message: `cannot read ${file}: ${detail}` });
}


/** The last `max` bytes of a step's log, from a line start when one is near; undefined if there is no log. */
export function readLogTail(file: string, max = LOG_TAIL_BYTES): LogTail | undefined {
  try {
    return readLogEnd(file, max);
  } catch (e) {
    throw folderError(file, e);
  }
}

function readOutputs(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw folderError(file, e);
  }
  let doc: { outputs?: unknown };
  try {
    doc = JSON.parse(text) as { outputs?: unknown };
  } catch (e) {
    throw folderError(file, e);
  }
  const o = doc.outputs;
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
}

/** Gather what a report shows from a run folder: the journal, the spec copy's graph, each step's outputs and log tail. */
export function loadReportInput(dir: string, manifest: JobManifest): ReportInput {
  const eventsFile = path.join(dir, 'events.jsonl');
  let events: RunEvent[];
  try {
    events = readJournal(eventsFile);
  } catch (e) {
    throw folderError(eventsFile, e);
  }
  const graph = readStepShapes(dir);
  const steps: ReportStep[] = Object.keys(manifest.steps).map((id) => {
    const of = manifest.steps[id]!.instance_of;
    const g = graph.get(of ?? id); // an instance is its fanned step's shape
    if (!g) throw new OrchestratorError({ code: 'run-folder', message: `${path.join(dir, 'inputs')}: the spec copy has no step "${id}", which the manifest lists` });
    const outputs = readOutputs(path.join(dir, 'outputs', `${id}.json`));
    const log = readLogTail(path.join(dir, 'logs', `${id}.log`));
    return { id, kind: g.kind, needs: g.needs, ...(of !== undefined ? { instanceOf: of } : {}), ...(outputs ? { outputs } : {}), ...(log ? { log } : {}) };
  });
  return { manifest, events, steps, generatedAt: new Date().toISOString() };
}
