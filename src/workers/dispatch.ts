// The coordinator's side: connects to Redis before the run folder exists (unreachable → exit 2), then runs each
// attempt of a shell step by adding it to the queue and following its stream (attempt-watch.ts). The scheduler,
// its priorities and the run folder stay here; workers only run processes.
import fs from 'node:fs';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { OrchestratorError } from '../errors.js';
import type { RunEventBody } from '../events/types.js';
import type { Bucket } from '../remote/bucket.js';
import type { JobSpec } from '../specfile/model.js';
import { sha256 } from '../store/hash.js';
import type { RunDir } from '../store/run-dir.js';
import { isCachedStep, runCachedAttempt, type RanAttempt } from '../steps/cached-attempt.js';
import { renderShell } from '../steps/render.js';
import type { StepCache } from '../steps/shell-cache.js';
import { failedAttempt, type AttemptInput, type AttemptResult, type StepExecutor } from '../steps/types.js';
import type { Redactor } from '../store/redact.js';
import { connectRedis, displayRedisUrl } from './connect.js';
import { AttemptWatch, watchTimings, type WatchTimings } from './attempt-watch.js';
import { declaredOutput } from './checkout-files.js';
import { KEY_PREFIX, QUEUE_NAME, attemptJobId, type AttemptJob } from './protocol.js';
import { listWorkers } from './registry.js';
import { offerNeeds, openRunBucket } from './transfer.js';
import { loadQueueLib } from './load-queue-lib.js';

/** Where the workers are, and how patiently to wait for them. */
export interface WorkersOptions {
  redisUrl: string;
  /** `s3://…` for artifacts, when the run has one. */
  bucketUrl?: string;
  /** Default: from the environment (watchTimings). */
  timings?: WatchTimings;
}

/** A coordinator connected to its workers: makes the executor for a run folder, and closes. */
export interface Workers {
  /** Slots of the workers connected now (the run's default concurrency). */
  slots: number;
  /** `cache`: the job's step cache (SPEC §11), looked up and written here for cached steps run on workers. */
  executor(o: { spec: JobSpec; runDir: RunDir; secretNames: string[]; emit: (e: RunEventBody) => void; cache?: StepCache; redactor: Redactor }): StepExecutor;
  close(): Promise<void>;
}

/** Connect to Redis (and load BullMQ); an OrchestratorError when it cannot be reached, before any run folder. */
export async function connectWorkers(o: WorkersOptions): Promise<Workers> {
  const timings = o.timings ?? watchTimings(); // a bad $ORCH_NO_WORKER_MS (…) is said now, before Redis and any run folder
  let lost: string | undefined;
  let watch: AttemptWatch | undefined;
  const redis = await connectRedis({ url: o.redisUrl, onLost: (m) => ((lost = m), watch?.failAll(m)) });
  const { Queue: BullQueue } = await loadQueueLib();
  const queue: Queue = new BullQueue(QUEUE_NAME, { connection: redis, prefix: KEY_PREFIX });
  queue.on('error', () => undefined); // the connection reports its loss through onLost
  const bucket = await openRunBucket(o.bucketUrl);
  const slots = (await listWorkers(redis)).reduce((n, w) => n + w.concurrency, 0);
  return {
    slots,
    executor: (run) => {
      const specDir = path.dirname(run.spec.path);
      watch = new AttemptWatch({ redis, queue, bucket, runDir: run.runDir, specDir, emit: run.emit, timings, where: displayRedisUrl(o.redisUrl) });
      return new RemoteShellExecutor({ ...run, queue, watch, bucket, bucketUrl: o.bucketUrl, isLost: () => lost });
    },
    close: async () => {
      await watch?.close();
      bucket?.close();
      // A connection that is gone is dropped, not closed politely: quitting would wait for it.
      if (lost) redis.disconnect();
      else await queue.close().then(() => redis.quit()).catch(() => redis.disconnect());
    },
  };
}

interface RemoteShellOptions {
  spec: JobSpec;
  runDir: RunDir;
  secretNames: string[];
  queue: Queue;
  watch: AttemptWatch;
  bucket?: Bucket;
  bucketUrl?: string;
  isLost: () => string | undefined;
  cache?: StepCache;
  redactor: Redactor;
}

/** Runs a shell step's attempt on a worker: queued as a BullMQ job of its own, one per attempt. */
class RemoteShellExecutor implements StepExecutor {
  readonly #o: RemoteShellOptions;
  readonly #specPath: string;
  readonly #specSha256: string;

  constructor(o: RemoteShellOptions) {
    this.#o = o;
    this.#specPath = path.relative(process.cwd(), o.spec.path);
    this.#specSha256 = sha256(o.spec.text);
  }

  /** A cached step is looked up here first (a hit queues nothing); a miss runs on a worker and is stored here. */
  async runAttempt(input: AttemptInput): Promise<AttemptResult> {
    const { step, context } = input;
    const cache = this.#o.cache;
    if (!cache || !isCachedStep(step)) return (await this.#dispatch(input)).result;
    const rendered = renderShell(step, context);
    if ('error' in rendered) return failedAttempt(rendered.error);
    const specDir = cache.o.scope.specDir;
    const exclude = cache.o.scope.exclude.map((d) => path.relative(specDir, d));
    return runCachedAttempt({ rendered, cache, runDir: this.#o.runDir, redactor: this.#o.redactor, run: () => this.#dispatch(input, { exclude }) });
  }

  /** Queue the attempt for a worker and wait for its outcome. */
  async #dispatch({ step, attempt, signal, context }: AttemptInput, cached?: AttemptJob['cache']): Promise<RanAttempt> {
    const o = this.#o;
    const lost = o.isLost();
    if (lost) return { result: failedAttempt({ code: 'remote', message: lost }) };
    const { env: _env, ...contexts } = context.contexts;
    const jobId = attemptJobId(o.runDir.jobId, step.id, attempt);
    const data: AttemptJob = {
      runId: o.runDir.jobId,
      attempt,
      step,
      cwdFromSpec: path.relative(path.dirname(o.spec.path), step.cwd),
      specPath: this.#specPath,
      specSha256: this.#specSha256,
      contexts,
      runsOn: step.runsOn ?? [],
      secretNames: o.secretNames,
      specEnv: o.spec.env,
      ...(o.bucketUrl ? { bucket: o.bucketUrl } : {}),
      ...(cached ? { cache: cached } : {}),
    };
    if (o.bucket && step.needs.length > 0) {
      try {
        data.restore = await offerNeeds(o.bucket, o.runDir, artifactOwners(o.spec, o.runDir, step.needs));
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        return { result: failedAttempt({ code: 'remote', message: `the artifacts of its needs could not be offered: ${e.message}` }) };
      }
    }
    const declared = cached && step.shellCache ? declaredOutput(step.shellCache.outputs, cached.exclude) : undefined;
    const settled = o.watch.follow({ jobId, stepId: step.id, attempt, runsOn: data.runsOn, ...(declared ? { declared } : {}), signal });
    try {
      await o.queue.add('attempt', data, { jobId, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } });
    } catch (e) {
      o.watch.settle(jobId, failedAttempt({ code: 'remote', message: `could not queue the step: ${(e as Error).message}` }));
    }
    const { result, worker, cache } = await settled;
    // What a cached step read on its worker: its result is stored only if that agrees with the key made here.
    return cached ? { result, elsewhere: { where: `worker ${worker ?? '?'}`, ...cache } } : { result };
  }
}

/**
 * The steps whose artifacts a step's needs left in the run folder: a fanned need's are its instances'
 * (`artifacts/<instance id>/`), which its outputs file lists (written when it settled, before any dependent runs).
 */
function artifactOwners(spec: JobSpec, runDir: RunDir, needs: readonly string[]): string[] {
  return needs.flatMap((id) => {
    if (spec.steps.find((s) => s.id === id)?.fan === undefined) return [id];
    const file = runDir.outputPath(id);
    try {
      const record = JSON.parse(fs.readFileSync(file, 'utf8')) as { results?: { id?: unknown }[] };
      return (record.results ?? []).flatMap((r) => (typeof r.id === 'string' ? [r.id] : []));
    } catch (e) {
      throw new OrchestratorError({ code: 'run-folder', message: `cannot read the instances of "${id}" from ${file}: ${(e as Error).message}` });
    }
  });
}
