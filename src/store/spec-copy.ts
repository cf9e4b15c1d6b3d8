import fs from 'node:fs';
import path from 'node:path';
import { formatDiagnostic, OrchestratorError } from '../errors.js';
import { loadDocument } from '../specfile/load.js';

/** A step as a run folder's spec copy draws it: what `show` and the report need of the graph. */
export interface StepShape {
  kind: 'shell' | 'llm';
  needs: string[];
}

/** The spec copy a run folder keeps (inputs/spec.yaml, or spec.json for a JSON spec), if it has one. */
export function specCopyFile(runDir: string): { file: string; format: 'yaml' | 'json' } | undefined {
  for (const format of ['yaml', 'json'] as const) {
    const file = path.join(runDir, 'inputs', `spec.${format}`);
    if (fs.existsSync(file)) return { file, format };
  }
  return undefined;
}

/**
 * Each step's kind and needs, read leniently from the run folder's spec copy (the manifest does not record
 * the graph): a copy that is missing or unreadable is a 'run-folder' error naming the file.
 */
export function readStepShapes(runDir: string): Map<string, StepShape> {
  const copy = specCopyFile(runDir);
  if (!copy) throw new OrchestratorError({ code: 'run-folder', message: `${path.join(runDir, 'inputs')} holds no spec.yaml or spec.json` });
  let data: unknown;
  try {
    data = loadDocument(copy.file).data;
  } catch (e) {
    const detail = e instanceof OrchestratorError ? e.diagnostics.map(formatDiagnostic).join('; ') : (e as Error).message;
    throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${copy.file}: ${detail}` });
  }
  const steps = (data as { steps?: unknown } | null)?.steps;
  const shapes = new Map<string, StepShape>();
  if (steps === null || typeof steps !== 'object') return shapes;
  for (const [id, raw] of Object.entries(steps as Record<string, unknown>)) {
    const s = (raw ?? {}) as { needs?: unknown; prompt?: unknown };
    const needs = Array.isArray(s.needs) ? s.needs.filter((n): n is string => typeof n === 'string') : [];
    shapes.set(id, { kind: s.prompt !== undefined ? 'llm' : 'shell', needs: [...new Set(needs)] });
  }
  return shapes;
}
