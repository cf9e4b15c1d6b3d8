import fs from 'node:fs';
import path from 'node:path';
import { EventBus } from '../events/bus.js';
import type { EventSink, JobStatus } from '../events/types.js';
import { buildGraph, topologicalOrder } from '../graph/build.js';
import { longestRemainingPath } from '../graph/priority.js';
import type { JobSpec, StepSpec } from '../specfile/model.js';
import { createLauncher, type ProcessLauncher } from '../process/launcher.js';
import { ShellExecutor } from '../steps/shell.js';
import type { StepResult } from '../events/step-result.js';
import type { StepExecutor } from '../steps/types.js';
import { writeAtomic, writeDurable } from '../store/atomic.js';
import { hashFile, listFiles, sha256, type FileRecord } from '../store/hash.js';
import { Journal } from '../store/journal.js';
import { ManifestBuilder, type JobManifest } from '../store/manifest.js';
import { Redactor } from '../store/redact.js';
import { StepFilePrefetcher } from '../store/prefetch.js';
import { RunDir } from '../store/run-dir.js';
import { planRank, readHistory, stepWeights, writeHistory } from './history.js';
import { runScheduler } from '../scheduler/scheduler.js';
import type { StepError } from '../errors.js';

/** What a caller sets for one job. */
export interface JobOptions {
  spec: JobSpec;
  runsDir: string;
  concurrency: number;
  failFast: boolean;
  /** Renderers and other sinks besides the journal and the manifest. */
  sinks: EventSink[];
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** Steps carried over from an earlier job, with their files already copied in (resume/rerun). */
  reuse?: { steps: Map<string, StepResult>; copy: (runDir: RunDir) => void; copyStep: (runDir: RunDir, id: string) => void; resumedFrom?: string; rerunOf?: string };
  /** LLM steps, when the spec has any (loaded only then). */
  llm?: (runDir: RunDir, redactor: Redactor) => StepExecutor;
  /** outputs_schema checks, when the spec has any. */
  checkContract?: (step: StepSpec, outputs: Record<string, unknown>) => StepError | undefined;
  /** Receives the job's process launcher, e.g. to kill every step on a second Ctrl-C. */
  onLauncher?: (launcher: ProcessLauncher) => void;
  /** Names of environment variables whose values never reach a file. */
  secretNames: string[];
}

/** The finished job. */
export interface JobOutcome {
  status: Exclude<JobStatus, 'running'>;
  manifest: JobManifest;
  runDir: RunDir;
}

/** Run one job end to end and record it in a new run folder (SPEC §4). */
export async function runJob(o: JobOptions): Promise<JobOutcome> {
  const { spec } = o;
  const runDir = RunDir.create(path.resolve(o.runsDir));
  fs.writeFileSync(runDir.specCopyPath(spec.format), spec.text);
  o.reuse?.copy(runDir);
  const redactor = Redactor.fromEnv(o.secretNames);

  const builder = new ManifestBuilder({
    jobId: runDir.jobId,
    name: spec.name,
    specPath: spec.path,
    specSha256: sha256(spec.text),
    concurrency: o.concurrency,
  });
  const journal = new Journal(runDir.eventsPath);
  const bus = new EventBus(runDir.jobId, [journal, builder, ...o.sinks], redactor.isActive ? (t) => redactor.redact(t) : undefined);
  // The first manifest only needs to be whole (the journal is the truth while the job runs); the last one is also made durable.
  const writeManifest = (durable: boolean): string => {
    const text = redactor.redact(JSON.stringify(builder.manifest, null, 2)) + '\n';
    (durable ? writeDurable : writeAtomic)(runDir.manifestPath, text);
    return text;
  };

  const graph = buildGraph(spec.steps);
  const runsDir = path.resolve(o.runsDir);
  const history = readHistory(runsDir, spec.path);
  // Ready steps go by the ranking the last run's durations simulated best, else by longest remaining path.
  const rank = planRank(graph, history, o.concurrency) ?? longestRemainingPath(graph, stepWeights(graph.ids, history));
  const launcher = await createLauncher({ shellSteps: spec.steps.filter((s) => s.kind === 'shell').length, baseEnv: { ...process.env, ...spec.env } });
  o.onLauncher?.(launcher);
  const reusedIds = o.reuse?.steps ?? new Map();
  const toRun = topologicalOrder(graph).filter((i) => !reusedIds.has(graph.ids[i]!));
  const roots = toRun.filter((i) => graph.needs[i]!.length === 0).length; // first in a topological order
  const files = new StepFilePrefetcher(runDir, toRun.map((i) => graph.ids[i]!), Math.min(roots, o.concurrency));
  const shell = new ShellExecutor({ runDir, launcher, redactor, files });
  const llm = o.llm?.(runDir, redactor);
  const started = Date.now();

  bus.emit({
    type: 'job.started',
    name: spec.name,
    spec_path: spec.path,
    concurrency: o.concurrency,
    pid: process.pid,
    steps: graph.ids,
    vars: spec.vars,
    ...(o.reuse?.resumedFrom ? { resumed_from: o.reuse.resumedFrom } : {}),
    ...(o.reuse?.rerunOf ? { rerun_of: o.reuse.rerunOf } : {}),
  });
  writeManifest(false);

  const outcome = await runScheduler({
    spec,
    graph,
    concurrency: o.concurrency,
    failFast: o.failFast,
    rank,
    emit: (e) => bus.emit(e),
    execute: (step, attempt, signal, context) => (step.kind === 'shell' ? shell : llm!).runAttempt({ step, attempt, signal, context }),
    onSettled: (step, result) => {
      if (result.attempts === 0 && !result.reused) files.discard(step.id);
      // A reused instance's files come over only when the new expansion has it again.
      if (result.reused && step.instance) o.reuse!.copyStep(runDir, step.id);
      return recordStep(runDir, redactor, step, result);
    },
    checkContract: o.checkContract,
    reused: o.reuse?.steps,
    contexts: { vars: spec.vars, env: { ...process.env }, job: { id: runDir.jobId, name: spec.name, run_dir: runDir.root } },
    signal: o.signal,
    jobTimeoutMs: spec.timeoutMs,
    onExpanded: (ids) => files.add(ids),
  });

  await launcher.close();
  await files.settle();
  bus.emit({ type: 'job.finished', status: outcome.status, duration_s: (Date.now() - started) / 1000 });
  const journalClosed = journal.close();
  removeWorkDir(runDir.workDir);
  builder.manifest.files = listFiles(runDir.root)
    .filter((p) => p !== 'manifest.json' && p !== 'events.jsonl')
    .map((p) => builder.knownFiles.get(p) ?? hashFile(runDir.root, p));
  const text = writeManifest(true);
  writeHistory({ runsDir, history, manifest: builder.manifest, graph, concurrency: o.concurrency });
  await journalClosed;
  // What callers print (run --json) is what was written: masked.
  return { status: outcome.status, manifest: JSON.parse(text) as JobManifest, runDir };
}

/** .work/ is empty unless a step was stopped before its $ORCH_OUTPUT file was read. */
function removeWorkDir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY') throw e;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Write outputs/<step>.json and hash it with the step's artifacts, for the step's final event. */
function recordStep(runDir: RunDir, redactor: Redactor, step: StepSpec, r: StepResult): FileRecord[] {
  const body = redactor.redact(
    JSON.stringify(
      {
        status: r.status,
        outputs: r.outputs,
        text: r.text,
        ...(r.textTruncated ? { text_truncated: true } : {}),
        exit_code: r.exitCode,
        attempts: r.attempts,
        cached: r.cached,
        reused: r.reused,
        error: r.error,
        ...(r.usage ? { usage: r.usage } : {}),
        ...(r.cacheKey ? { cache_key: r.cacheKey, cache_key_parts: r.cacheKeyParts } : {}),
        ...(step.instance ? { instance_of: step.instance.of, matrix: step.instance.matrix ?? null, item: step.instance.item ?? null } : {}),
        ...(r.results ? { instances: r.instances, results: r.results } : {}),
      },
      null,
      2,
    ) + '\n',
  );
  const rel = `outputs/${step.id}.json`;
  // Rewritten in place: the prefetcher created it (creating files is what is slow), and resume trusts it
  // only through the SHA-256 in this step's final event, which is written after it.
  fs.writeFileSync(runDir.outputPath(step.id), body);
  const files: FileRecord[] = [{ path: rel, sha256: sha256(body), size_bytes: Buffer.byteLength(body) }];
  for (const p of listFiles(runDir.root, runDir.artifactsDir(step.id))) files.push(hashFile(runDir.root, p));
  // The log too: resume copies exactly what a step's event recorded, and finds a log that went missing.
  const log = `logs/${step.id}.log`;
  if (fs.existsSync(path.join(runDir.root, log))) files.push(hashFile(runDir.root, log));
  return files;
}
