import fs from 'node:fs';
import path from 'node:path';
import { EventBus } from '../events/bus.js';
import type { EventSink, JobStatus } from '../events/types.js';
import { buildGraph, topologicalOrder } from '../graph/build.js';
import { longestRemainingPath } from '../graph/priority.js';
import type { JobSpec, StepSpec } from '../specfile/model.js';
import { createLauncher, type ProcessLauncher } from '../process/launcher.js';
import { pidMark as readPidMark, stopStragglers } from '../process/stragglers.js';
import { ShellExecutor } from '../steps/shell.js';
import type { StepResult } from '../events/step-result.js';
import type { StepExecutor } from '../steps/types.js';
import type { StepCache } from '../steps/shell-cache.js';
import { writeAtomic, writeDurable } from '../store/atomic.js';
import { hashFile, listFiles, sha256, type FileRecord } from '../store/hash.js';
import { Journal } from '../store/journal.js';
import { ManifestBuilder, type JobManifest } from '../store/manifest.js';
import { isIoError, tryWrite } from '../store/io-fault.js';
import { Redactor } from '../store/redact.js';
import { StepFilePrefetcher } from '../store/prefetch.js';
import { RunDir } from '../store/run-dir.js';
import { planRank, readHistory, stepWeights, writeHistory } from './history.js';
import { runScheduler } from '../scheduler/scheduler.js';
import type { StepError } from '../errors.js';
import type { Workers } from '../workers/dispatch.js';
import { processStartId } from '../util/process-start.js';

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
  /** Aborted by a second Ctrl-C: not even a step whose if: asks to run after a stop starts then. */
  killSignal?: AbortSignal;
  /** Steps carried over from an earlier job, with their files already copied in (resume/rerun). */
  reuse?: { steps: Map<string, StepResult>; instanceValues: Map<string, string>; copy: (runDir: RunDir) => void; copyStep: (runDir: RunDir, id: string) => void; resumedFrom?: string; rerunOf?: string };
  /** LLM steps, when the spec has any (loaded only then). */
  llm?: (runDir: RunDir, redactor: Redactor) => StepExecutor;
  /** The step cache, when a run step has `cache:` (SPEC §11; loaded only then). */
  stepCache?: (runDir: RunDir, redactor: Redactor) => StepCache;
  /** outputs_schema checks, when the spec has any. */
  checkContract?: (step: StepSpec, outputs: Record<string, unknown>) => StepError | undefined;
  /** Receives the job's process launcher, e.g. to kill every step on a second Ctrl-C. */
  onLauncher?: (launcher: ProcessLauncher) => void;
  /** Names of environment variables whose values never reach a file. */
  secretNames: string[];
  /** Shell steps go to these workers (closed when the job ends). */
  workers?: Workers;
}

/** The finished job. */
export interface JobOutcome {
  status: Exclude<JobStatus, 'running'>;
  manifest: JobManifest;
  runDir: RunDir;
  /** Why the job's records could not be written (disk-full, io), when that failed it. */
  fault?: StepError;
  /** Things the user should know that did not fail the job. */
  warnings: string[];
}

/**
 * Run one job end to end and record it in a new run folder (SPEC §4). When the records themselves cannot be
 * written (a full disk, the runs folder deleted: `disk-full`, `io`), the job stops and ends `failed` with
 * that error, recorded as far as the disk allows; a step whose own files cannot be written fails with it.
 */
export async function runJob(o: JobOptions): Promise<JobOutcome> {
  const { spec } = o;
  // First: a launcher that cannot start (out of descriptors) leaves no run folder behind.
  // With workers, no shell step starts here: no watchdog, no launcher process.
  const launcher = await createLauncher({ shellSteps: o.workers ? 0 : spec.steps.filter((s) => s.kind === 'shell').length, baseEnv: { ...process.env, ...spec.env } });
  // Processes made from here on may be this job's: what a scan for leftovers at its end reads (Linux).
  const pidMark = readPidMark();
  const runDir = RunDir.create(path.resolve(o.runsDir));
  const redactor = Redactor.fromEnv(o.secretNames);
  const builder = new ManifestBuilder({
    jobId: runDir.jobId,
    name: spec.name,
    specPath: spec.path,
    specSha256: sha256(spec.text),
    concurrency: o.concurrency,
  });
  // The first fault wins; it stops the job (its steps are cancelled), which then ends failed with it.
  let fault: StepError | undefined;
  const stop = new AbortController();
  const onFault = (f: StepError) => {
    fault ??= f;
    stop.abort({ code: 'cancelled', message: `the job's records cannot be written (${f.message})` } satisfies StepError);
  };
  if (o.signal.aborted) stop.abort();
  else o.signal.addEventListener('abort', () => stop.abort(), { once: true });
  const writeManifest = (durable: boolean): string => {
    const text = JSON.stringify(redactor.redactValue(builder.manifest), null, 2) + '\n';
    // The first manifest only needs to be whole (the journal is the truth while the job runs); the last one is also made durable.
    const failed = tryWrite(runDir.manifestPath, () => (durable ? writeDurable : writeAtomic)(runDir.manifestPath, text), { exact: true });
    // A full disk has no room for the temp file beside it: rewriting the old one in place still fits when the
    // old one's blocks hold the new text (tried only then: a rewrite cut short would leave no whole manifest).
    if (failed && durable && fitsInPlace(runDir.manifestPath, text) && !tryWrite(runDir.manifestPath, () => fs.writeFileSync(runDir.manifestPath, text))) return text;
    if (failed) onFault(failed);
    return text;
  };

  let journal: Journal | undefined;
  const setupFault =
    tryWrite(runDir.specCopyPath(spec.format), () => fs.writeFileSync(runDir.specCopyPath(spec.format), spec.text)) ??
    tryWrite(runDir.root, () => o.reuse?.copy(runDir)) ??
    tryWrite(runDir.eventsPath, () => (journal = new Journal(runDir.eventsPath, onFault))) ??
    tryWrite(runDir.reservePath, () => fs.writeFileSync(runDir.reservePath, Buffer.alloc(reserveBytes(spec.steps.length))));
  if (setupFault || !journal) {
    const f = setupFault!;
    Object.assign(builder.manifest, { status: 'failed', error: f, finished_at: new Date().toISOString(), duration_s: 0 });
    const text = writeManifest(true);
    await launcher.close();
    await o.workers?.close();
    return { status: 'failed', manifest: JSON.parse(text) as JobManifest, runDir, fault: f, warnings: [] };
  }
  const bus = new EventBus(runDir.jobId, [journal, builder, ...o.sinks], redactor.isActive ? (e) => redactor.redactValue(e) : undefined);

  const graph = buildGraph(spec.steps);
  const runsDir = path.resolve(o.runsDir);
  const history = readHistory(runsDir, spec.path);
  // Ready steps go by the ranking the last run's durations simulated best, else by longest remaining path.
  const rank = planRank(graph, history, o.concurrency) ?? longestRemainingPath(graph, stepWeights(graph.ids, history));
  o.onLauncher?.(launcher);
  const reusedIds = o.reuse?.steps ?? new Map();
  const toRun = topologicalOrder(graph).filter((i) => !reusedIds.has(graph.ids[i]!));
  // Shell steps only: a prompt step has no $ORCH_ARTIFACTS, and its outputs file is written once, when it settles.
  const shells = toRun.filter((i) => spec.steps[i]!.kind === 'shell');
  const roots = shells.filter((i) => graph.needs[i]!.length === 0).length; // first in a topological order
  const files = new StepFilePrefetcher(runDir, shells.map((i) => graph.ids[i]!), Math.min(roots, o.concurrency));
  const stepCache = o.stepCache?.(runDir, redactor);
  const shell = new ShellExecutor({ runDir, launcher, redactor, files, cache: stepCache });
  const llm = o.llm?.(runDir, redactor);
  const remote = o.workers?.executor({ spec, runDir, secretNames: o.secretNames, emit: (e) => bus.emit(e), cache: stepCache, redactor });
  const started = Date.now();
  const pidStart = processStartId(process.pid);

  bus.emit({
    type: 'job.started',
    name: spec.name,
    spec_path: spec.path,
    concurrency: o.concurrency,
    pid: process.pid,
    ...(pidStart !== undefined ? { pid_start: pidStart } : {}),
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
    execute: (step, attempt, signal, context) => (step.kind === 'shell' ? (remote ?? shell) : llm!).runAttempt({ step, attempt, signal, context }),
    onSettled: (step, result) => {
      if (result.attempts === 0 && !result.reused) files.discard(step.id);
      // A reused instance's files come over only when the new expansion has it again.
      if (result.reused && step.instance) o.reuse!.copyStep(runDir, step.id);
      return recordStep(runDir, redactor, step, result);
    },
    checkContract: o.checkContract,
    reused: o.reuse?.steps,
    reusedValues: o.reuse?.instanceValues,
    ...(redactor.isActive ? { secrets: redactor } : {}),
    contexts: { vars: spec.vars, env: { ...process.env }, job: { id: runDir.jobId, name: spec.name, run_dir: runDir.root } },
    signal: stop.signal,
    ...(o.killSignal ? { killSignal: o.killSignal } : {}),
    jobTimeoutMs: spec.timeoutMs,
    onExpanded: (step, ids) => {
      if (step.kind === 'shell') files.add(ids);
    },
  });

  await o.workers?.close();
  await files.settle().catch((e: unknown) => {
    // A step that could not get its files failed with that already; the folder was not left half-made by us.
    if (!isIoError(e)) throw e;
  });
  // The job's last records go into the space held back for them: a full disk still gets a finished job.
  const reserveFault = tryWrite(runDir.reservePath, () => fs.rmSync(runDir.reservePath, { force: true }));
  if (reserveFault) onFault(reserveFault);
  journal.resume();
  const status = fault ? 'failed' : outcome.status;
  bus.emit({ type: 'job.finished', status, duration_s: (Date.now() - started) / 1000, ...(fault ? { error: fault } : {}) });
  const journalClosed = journal.close();
  const endFault = tryWrite(runDir.workDir, () => removeWorkDir(runDir.workDir)) ?? tryWrite(runDir.root, () => {
    builder.manifest.files = listFiles(runDir.root)
      .filter((p) => p !== 'manifest.json' && p !== 'events.jsonl')
      .map((p) => builder.knownFiles.get(p) ?? hashFile(runDir.root, p));
  });
  if (endFault) {
    onFault(endFault);
    Object.assign(builder.manifest, { status: 'failed', error: fault });
  }
  const text = writeManifest(true);
  await journalClosed;
  const warnings: string[] = [];
  // The history only ranks the next run's steps: a job whose records are whole does not fail for it.
  const historyFault = fault ? undefined : tryWrite(runsDir, () => writeHistory({ runsDir, history, manifest: builder.manifest, graph, concurrency: o.concurrency }));
  if (historyFault) warnings.push(`step durations not saved for the next run: ${historyFault.message}`);
  const hashesFault = stepCache && tryWrite(runsDir, () => stepCache.close());
  if (hashesFault) warnings.push(`input hashes not saved for the next run: ${hashesFault.message}`);
  // The job is recorded; processes its steps left behind in their groups may still be owed their SIGKILL
  // (at most the 5 s grace away), and this process must not end before they get it.
  await launcher.settle();
  // And what they left outside their groups (a daemon started with setsid) goes too: nothing outlives the job.
  // The launcher (or the watchdog) stays armed until then: if this process is killed meanwhile, it stops them.
  // Only its own steps' (their ORCH_SWEEP_ID is this launcher's): a worker on this machine running steps of this
  // job (same ORCH_JOB_ID) is not this process's to sweep.
  const stragglers = await stopStragglers({ sweepId: launcher.sweepId, since: pidMark });
  await launcher.close();
  if (stragglers.length > 0) {
    warnings.push(`stopped ${stragglers.length === 1 ? 'a process' : `${stragglers.length} processes`} that steps left running outside their process groups: ${stragglers.map((p) => `${p.pid} (${p.command})`).join(', ')}`);
  }
  // What callers print (run --json) is what was written: masked.
  const manifest = JSON.parse(text) as JobManifest;
  if (fault && manifest.status !== 'failed') Object.assign(manifest, { status: 'failed', error: fault }); // the journal broke after job.finished
  return { status: fault ? 'failed' : outcome.status, manifest, runDir, ...(fault ? { fault } : {}), warnings };
}

/**
 * Space held back at the start of a job for its last records: job.finished and the final manifest (a few
 * hundred bytes per step, and its files), so that a disk that fills while the job runs still gets them.
 */
function reserveBytes(steps: number): number {
  return Math.min(64 * 1024 + 1024 * steps, 8 * 1024 * 1024);
}

/** Whether `text` fits in the blocks a file already has on disk (so rewriting it needs no new ones). */
function fitsInPlace(file: string, text: string): boolean {
  let blocks = 0;
  if (tryWrite(file, () => (blocks = fs.statSync(file, { throwIfNoEntry: false })?.blocks ?? 0))) return false;
  return Buffer.byteLength(text) <= blocks * 512;
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

/** Write outputs/<step>.json and hash it with the step's artifacts, for the step's final event; a file-system error is the step's fault. */
function recordStep(runDir: RunDir, redactor: Redactor, step: StepSpec, r: StepResult): { files?: FileRecord[]; fault?: StepError } {
  let files: FileRecord[] = [];
  const fault = tryWrite(runDir.outputPath(step.id), () => (files = writeStepRecord(runDir, redactor, step, r)));
  if (fault) {
    // No outputs file rather than an empty or torn one (made ahead empty, or cut by the full disk): readers say it is missing.
    tryWrite(runDir.outputPath(step.id), () => fs.rmSync(runDir.outputPath(step.id), { force: true }));
    return { fault };
  }
  return { files };
}

/** Outputs files up to this size are rewritten in place (one write); larger ones are replaced atomically. */
const OUTPUTS_IN_PLACE_BYTES = 64 * 1024;

function writeStepRecord(runDir: RunDir, redactor: Redactor, step: StepSpec, r: StepResult): FileRecord[] {
  const record = {
    status: r.status,
    outputs: r.outputs,
    // Cut at the limit: any start of a secret at its end is masked; a text that simply ends there, from 4 characters on.
    text: redactor.redactCut(r.text, r.textTruncated ? 1 : 4),
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
  };
  const body = JSON.stringify(redactor.redactValue(record), null, 2) + '\n';
  const rel = `outputs/${step.id}.json`;
  // Rewritten in place: the prefetcher created it (creating files is what is slow), and resume trusts it
  // only through the SHA-256 in this step's final event, which is written after it. A small one goes in one
  // write, which a kill -9 cannot cut; a large one (which Node may write in parts) is replaced whole.
  if (Buffer.byteLength(body) <= OUTPUTS_IN_PLACE_BYTES) fs.writeFileSync(runDir.outputPath(step.id), body);
  else writeAtomic(runDir.outputPath(step.id), body);
  const files: FileRecord[] = [{ path: rel, sha256: sha256(body), size_bytes: Buffer.byteLength(body) }];
  // A prompt step has no $ORCH_ARTIFACTS, and no artifacts folder is made for it.
  if (step.kind === 'shell') for (const p of listFiles(runDir.root, runDir.artifactsDir(step.id))) files.push(hashFile(runDir.root, p));
  // The log too: resume copies exactly what a step's event recorded, and finds a log that went missing.
  const log = `logs/${step.id}.log`;
  if (r.logFile) files.push(r.logFile);
  else if (fs.existsSync(path.join(runDir.root, log))) files.push(hashFile(runDir.root, log));
  return files;
}
