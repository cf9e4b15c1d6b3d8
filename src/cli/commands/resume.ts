import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../../errors.js';
import { buildGraph, downstreamOf } from '../../graph/build.js';
import { STDIN_NAME } from '../../specfile/load.js';
import type { JobSpec } from '../../specfile/model.js';
import { sha256 } from '../../store/hash.js';
import { planReuse, type ReusePlan } from '../../job/reuse.js';
import type { JobManifest } from '../../store/manifest.js';
import { readManifest, resolveJob } from '../../store/runs.js';
import { didYouMean } from '../../util/suggest.js';
import { specOfJob } from '../job-spec.js';
import { runsDirOf } from '../options.js';
import { CANCEL_SIGNALS, checkForced, executeJob, type Notice, type RunOptions } from './run.js';

/**
 * Check the old job's files for reuse (hashing them can take a while) with Ctrl-C, SIGTERM and SIGHUP
 * stopping the check at once. Cancelled: said on stderr, and undefined; no new job was started.
 */
async function checkReuse(plan: (signal: AbortSignal) => Promise<ReusePlan>): Promise<ReusePlan | undefined> {
  const controller = new AbortController();
  // Also when a read does not return (a hung network disk): the check is not waited for once cancelled.
  const cancelled = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error)));
  const onSignal = () => controller.abort();
  for (const sig of CANCEL_SIGNALS) process.on(sig, onSignal);
  try {
    return await Promise.race([plan(controller.signal), cancelled]);
  } catch (e) {
    if (!controller.signal.aborted) throw e;
    process.stderr.write("cancelled while checking the old job's files: no new job was started\n");
    return undefined;
  } finally {
    for (const sig of CANCEL_SIGNALS) process.off(sig, onSignal);
  }
}

/**
 * Whether the spec file at the job's recorded path still holds what the job ran: a user who edited it and
 * typed `resume` would otherwise silently get the old spec.
 */
function specChangeNotices(spec: JobSpec, command: 'resume' | 'rerun'): Notice[] {
  if (path.basename(spec.path) === STDIN_NAME) return []; // read from stdin: the job's copy is the only one there is
  let current: Buffer;
  try {
    current = fs.readFileSync(spec.path);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is gone' : `cannot be read (${(e as Error).message})`;
    return [{ code: 'spec-gone', message: `the spec file ${spec.path} ${why}: ${command} uses the job's copy` }];
  }
  if (sha256(current) === sha256(spec.text)) return [];
  return [{ code: 'spec-changed', message: `the spec changed since this job (${spec.path}): ${command} uses the job's copy; \`run\` takes your edits` }];
}

/**
 * The old job's copy of the spec cut down to the steps that job ran: a job run for named steps (`run ci.yaml build`)
 * is resumed, or re-run, as that job, never with the steps it left out (a deploy, say). Its steps are closed under
 * `needs`, so the cut spec is whole.
 */
function asTheJobRan(spec: JobSpec, old: JobManifest): JobSpec {
  const ran = new Set(Object.entries(old.steps).flatMap(([id, s]) => (s.instance_of === undefined ? [id] : [])));
  // A job that never started recorded no step: it ran nothing, so nothing was left out either.
  return ran.size === 0 || spec.steps.every((s) => ran.has(s.id)) ? spec : { ...spec, steps: spec.steps.filter((s) => ran.has(s.id)) };
}

/** The job to take over from; a damaged manifest rebuilt from the journal is said so (what it reuses is still checked file by file). */
function readOldJob(runsDir: string, jobId: string): JobManifest {
  const old = readManifest(runsDir, jobId);
  if (old.damaged) process.stderr.write(`warning: ${old.damaged}; using what events.jsonl recorded\n`);
  return old;
}

/** `orchestrator resume <job>`: a new job that reuses the old one's succeeded steps and runs the rest. */
export async function resumeCommand(ref: string, opts: RunOptions): Promise<number> {
  const runsDir = runsDirOf(opts);
  const jobId = resolveJob(runsDir, ref);
  const old = readOldJob(runsDir, jobId);
  if (old.status === 'running') throw new OrchestratorError({ code: 'usage', message: `job ${jobId} is still running (pid ${old.pid}); resume it when it has stopped` });
  const spec = asTheJobRan(specOfJob(runsDir, jobId, old.spec.path), old);
  checkForced(spec, opts.force);
  spec.vars = old.vars ?? spec.vars;
  const reuse = await checkReuse((signal) =>
    planReuse({ oldDir: path.join(runsDir, jobId), old, graph: buildGraph(spec.steps), eligible: () => true, needsReused: true, isFanned: (i) => spec.steps[i]!.fan !== undefined, signal }),
  );
  if (!reuse) return 130;
  return executeJob(spec, opts, { reuse: { ...reuse, resumedFrom: jobId }, notices: specChangeNotices(spec, 'resume') });
}

/** `orchestrator rerun <job> --step X`: re-run X (and by default everything downstream of it), reuse the rest. */
export async function rerunCommand(ref: string, opts: RunOptions & { step: string[]; cascade?: boolean }): Promise<number> {
  const runsDir = runsDirOf(opts);
  const jobId = resolveJob(runsDir, ref);
  const old = readOldJob(runsDir, jobId);
  if (old.status === 'running') throw new OrchestratorError({ code: 'usage', message: `job ${jobId} is still running (pid ${old.pid})` });
  const spec = asTheJobRan(specOfJob(runsDir, jobId, old.spec.path), old);
  checkForced(spec, opts.force);
  spec.vars = old.vars ?? spec.vars;
  const graph = buildGraph(spec.steps);
  // A step id re-runs the step (every instance of a fanned one); an instance id re-runs that instance, and the
  // rest of its step is reused.
  const roots: number[] = [];
  const instanceSteps: number[] = [];
  const namedInstances = new Set<string>();
  for (const id of opts.step) {
    const i = graph.index.get(id);
    if (i !== undefined) {
      roots.push(i);
      continue;
    }
    const of = Object.hasOwn(old.steps, id) ? old.steps[id]!.instance_of : undefined;
    const j = of === undefined ? undefined : graph.index.get(of);
    if (j === undefined) throw new OrchestratorError({ code: 'usage', message: `job ${jobId} has no step "${id}"${didYouMean(id, Object.keys(old.steps))}` });
    instanceSteps.push(j);
    namedInstances.add(id);
  }
  const cascade = opts.cascade !== false;
  const rerun = cascade ? downstreamOf(graph, [...roots, ...instanceSteps]) : new Set([...roots, ...instanceSteps]);
  const whole = cascade ? downstreamOf(graph, [...roots, ...instanceSteps.flatMap((j) => graph.children[j]!)]) : new Set(roots);
  const reuse = await checkReuse((signal) =>
    planReuse({
      oldDir: path.join(runsDir, jobId),
      old,
      graph,
      eligible: (i) => !rerun.has(i),
      needsReused: cascade,
      isFanned: (i) => spec.steps[i]!.fan !== undefined,
      instanceEligible: (id, i) => !whole.has(i) && !namedInstances.has(id),
      signal,
    }),
  );
  if (!reuse) return 130;
  return executeJob(spec, opts, { reuse: { ...reuse, rerunOf: jobId }, notices: specChangeNotices(spec, 'rerun') });
}
