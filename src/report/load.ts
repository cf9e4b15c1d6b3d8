import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError, formatDiagnostic } from '../errors.js';
import type { RunEvent } from '../events/types.js';
import { loadDocument } from '../specfile/load.js';
import { readJournal } from '../store/journal.js';
import { readLogEnd } from '../store/log-tail.js';
import type { JobManifest } from '../store/manifest.js';
import type { LogTail, ReportInput, ReportStep } from './model.js';

/** How much of each log a report holds: the end, where failures show. */
export const LOG_TAIL_BYTES = 64 * 1024;

function folderError(file: string, e: unknown): OrchestratorError {
  const detail = e instanceof OrchestratorError ? e.diagnostics.map(formatDiagnostic).join('; ') : (e as Error).message;
  return new OrchestratorError({ code: 'run-folder', message: `cannot read ${file}: ${detail}` });
}

/** Each step's kind and needs, from the run folder's copy of the spec (the manifest does not record the graph). */
function readGraph(dir: string): Map<string, { kind: 'shell' | 'llm'; needs: string[] }> {
  const file = ['spec.yaml', 'spec.json'].map((f) => path.join(dir, 'inputs', f)).find((f) => fs.existsSync(f));
  if (!file) throw new OrchestratorError({ code: 'run-folder', message: `${path.join(dir, 'inputs')} holds no spec.yaml or spec.json: cannot draw the graph` });
  let data: unknown;
  try {
    data = loadDocument(file).data;
  } catch (e) {
    throw folderError(file, e);
  }
  const steps = (data as { steps?: unknown }).steps;
  const graph = new Map<string, { kind: 'shell' | 'llm'; needs: string[] }>();
  if (steps === null || typeof steps !== 'object') return graph;
  for (const [id, raw] of Object.entries(steps as Record<string, unknown>)) {
    const s = (raw ?? {}) as { needs?: unknown; prompt?: unknown };
    const needs = Array.isArray(s.needs) ? s.needs.filter((n): n is string => typeof n === 'string') : [];
    graph.set(id, { kind: s.prompt !== undefined ? 'llm' : 'shell', needs: [...new Set(needs)] });
  }
  return graph;
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
  const graph = readGraph(dir);
  const steps: ReportStep[] = Object.keys(manifest.steps).map((id) => {
    const g = graph.get(id);
    if (!g) throw new OrchestratorError({ code: 'run-folder', message: `${path.join(dir, 'inputs')}: the spec copy has no step "${id}", which the manifest lists` });
    const outputs = readOutputs(path.join(dir, 'outputs', `${id}.json`));
    const log = readLogTail(path.join(dir, 'logs', `${id}.log`));
    return { id, kind: g.kind, needs: g.needs, ...(outputs ? { outputs } : {}), ...(log ? { log } : {}) };
  });
  return { manifest, events, steps, generatedAt: new Date().toISOString() };
}
