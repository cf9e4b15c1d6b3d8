import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { topologicalOrder, type Graph } from '../graph/build.js';
import type { StepResult } from '../events/step-result.js';
import { hashFileInterruptibly, listFiles, type FileRecord } from '../store/hash.js';
import { readJournal } from '../store/journal.js';
import type { JobManifest } from '../store/manifest.js';
import type { RunDir } from '../store/run-dir.js';
import { instanceValuesKey } from '../graph/instances.js';
import { makeFolder } from '../util/make-folder.js';

/** What a new job takes over from an old one: settled results, and how to copy their files in. */
export interface ReusePlan {
  /** By step id; instances of fanned steps by instance id (used only if the new expansion has them again). */
  steps: Map<string, StepResult>;
  /** Of each reused instance, the identity of its recorded values (instanceValuesKey): reused only if the new one's are the same. */
  instanceValues: Map<string, string>;
  /** Copy the files of the reused steps that are no instances (before the job starts). */
  copy: (runDir: RunDir) => void;
  /** Copy one reused instance's files (when the new expansion reuses it). */
  copyStep: (runDir: RunDir, id: string) => void;
}

/**
 * Plan the reuse of an old job's succeeded steps. `eligible(i)` says which steps may be reused at all
 * (resume: every step; rerun: all but the re-run ones). A step is reused only if it succeeded and, with
 * `needsReused`, every step it needs is reused too (rerun --no-cascade keeps downstream steps as they were). Its outputs and artifacts are checked against the SHA-256 recorded when it
 * settled: a changed or missing file is an error, never a silent re-use.
 *
 * A fanned step (`isFanned`) is never reused whole: it expands again in the new job, and each of its old instances
 * that succeeded and is `instanceEligible` (default: when the step is eligible) is reused one by one, by id, even
 * when its needs run again. Its dependents may be reused when it succeeded whole and its needs are reused (then
 * every instance is reused, and its results are the same). Aborting `signal` stops the check between two chunks
 * of a file, with the signal's reason.
 */
export async function planReuse(o: {
  oldDir: string;
  old: JobManifest;
  graph: Graph;
  eligible: (i: number) => boolean;
  needsReused: boolean;
  isFanned: (i: number) => boolean;
  instanceEligible?: (id: string, i: number) => boolean;
  signal: AbortSignal;
}): Promise<ReusePlan> {
  const { graph: g, old, oldDir } = o;
  const recorded = recordedFiles(oldDir);
  const reusable = new Uint8Array(g.ids.length);
  const steps = new Map<string, StepResult>();
  const instances = new Set<string>();
  const instanceValues = new Map<string, string>();
  const instanceEligible = o.instanceEligible ?? ((_id: string, i: number) => o.eligible(i));
  for (const i of topologicalOrder(g)) {
    const id = g.ids[i]!;
    const rec = old.steps[id];
    const needsOk = !o.needsReused || g.needs[i]!.every((j) => reusable[j]);
    if (o.isFanned(i)) {
      // An instance's id is its values: when the steps its for_each reads ran again, the instances whose item
      // is still there are reused, and only new items run.
      for (const x of rec?.instances ?? []) {
        if (old.steps[x]?.status !== 'succeeded' || !instanceEligible(x, i)) continue;
        steps.set(x, await reusedResult({ oldDir, id: x, old, recorded, signal: o.signal, values: (v) => instanceValues.set(x, v) }));
        instances.add(x);
      }
      if (needsOk && o.eligible(i) && rec?.status === 'succeeded') reusable[i] = 1;
      continue;
    }
    if (!needsOk || !o.eligible(i) || rec?.status !== 'succeeded') continue;
    reusable[i] = 1;
    steps.set(id, await reusedResult({ oldDir, id, old, recorded, signal: o.signal }));
  }
  const copyStep = (runDir: RunDir, id: string) => {
    for (const f of recorded.get(id)!) {
      if (f.path.startsWith('outputs/')) continue;
      const to = path.join(runDir.root, f.path);
      makeFolder(path.dirname(to));
      fs.copyFileSync(path.join(oldDir, f.path), to);
    }
  };
  return {
    steps,
    instanceValues,
    // Exactly the files each step's event recorded, byte for byte as verified above: nothing the old
    // folder gained since (a file added to its artifacts, a FIFO) comes along. outputs/ is written anew.
    copy: (runDir) => {
      for (const id of steps.keys()) if (!instances.has(id)) copyStep(runDir, id);
    },
    copyStep,
  };
}

/** An old step's result as a reused one, after checking its files against their recorded SHA-256. */
async function reusedResult(o: { oldDir: string; id: string; old: JobManifest; recorded: Map<string, FileRecord[]>; signal: AbortSignal; values?: (key: string) => void }): Promise<StepResult> {
  const { oldDir, id, old, recorded } = o;
  const rec = old.steps[id]!;
  const files = recorded.get(id);
  if (!files) throw new OrchestratorError({ code: 'run-folder', message: `${oldDir}: step "${id}" succeeded but its files were never recorded; cannot reuse it safely` });
  await verify({ oldDir, id, files, signal: o.signal });
  const out = readOutput(oldDir, id);
  // An instance's outputs file records its values (masked where they hold a secret: such an instance runs again).
  o.values?.(instanceValuesKey(out.matrix as Record<string, unknown> | null | undefined, out.item));
  return {
    status: 'succeeded',
    attempts: rec.attempts,
    exitCode: rec.exit_code,
    text: typeof out.text === 'string' ? out.text : '',
    ...(out.text_truncated === true ? { textTruncated: true } : {}),
    outputs: (out.outputs ?? {}) as Record<string, unknown>,
    error: null,
    cached: rec.cached,
    reused: true,
    startedAt: null,
    finishedAt: null,
    durationS: 0,
  };
}

/** Files each step had when it settled, from the journal (which survives a crash; the final manifest may not exist). */
function recordedFiles(oldDir: string): Map<string, FileRecord[]> {
  const byStep = new Map<string, FileRecord[]>();
  let events;
  try {
    events = readJournal(path.join(oldDir, 'events.jsonl'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return byStep; // died before its first event: nothing finished
    throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${path.join(oldDir, 'events.jsonl')}: ${(e as Error).message}` });
  }
  for (const e of events) if (e.type === 'step.succeeded' && e.files) byStep.set(e.step, e.files);
  return byStep;
}

async function verify({ oldDir, id, files, signal }: { oldDir: string; id: string; files: FileRecord[]; signal: AbortSignal }): Promise<void> {
  const known = new Set(files.map((f) => f.path));
  for (const p of listFiles(oldDir, path.join(oldDir, 'artifacts', id))) {
    if (!known.has(p)) throw new OrchestratorError({ code: 'run-folder', message: `cannot reuse step "${id}": ${path.join(oldDir, p)} was not there when the step finished (it was added since)` });
  }
  for (const f of files) {
    let actual: FileRecord;
    try {
      actual = await hashFileInterruptibly(oldDir, f.path, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(e as Error).message})`;
      throw new OrchestratorError({ code: 'run-folder', message: `cannot reuse step "${id}": ${path.join(oldDir, f.path)} ${why}` });
    }
    if (actual.sha256 !== f.sha256) {
      throw new OrchestratorError({ code: 'run-folder', message: `cannot reuse step "${id}": ${path.join(oldDir, f.path)} changed since the run (SHA-256 ${actual.sha256.slice(0, 12)}…, recorded ${f.sha256.slice(0, 12)}…)` });
    }
  }
}

function readOutput(oldDir: string, id: string): { text?: unknown; text_truncated?: unknown; outputs?: unknown; matrix?: unknown; item?: unknown } {
  try {
    return JSON.parse(fs.readFileSync(path.join(oldDir, 'outputs', `${id}.json`), 'utf8')) as { text?: unknown; text_truncated?: unknown; outputs?: unknown; matrix?: unknown; item?: unknown };
  } catch (e) {
    throw new OrchestratorError({ code: 'run-folder', message: `cannot reuse step "${id}": ${(e as Error).message}` });
  }
}
