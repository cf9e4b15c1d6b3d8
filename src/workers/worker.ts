// `orchestrator worker`: takes attempts of shell steps from the queue and runs them in this checkout, as a local
// run would (the same ShellExecutor), in a scratch run folder of its own. What the coordinator needs comes back
// through the attempt's stream (who took it, the log, the result: with what a cached step read here, for the
// coordinator to check against its key) and the bucket (artifacts, a cached step's declared workspace outputs);
// every entry is fenced by the attempt's lock, so a worker that was paused past it sends nothing that is taken.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { OrchestratorError, type StepError } from '../errors.js';
import type { AttemptResult } from '../events/step-result.js';
import { createLauncher, type ProcessLauncher } from '../process/launcher.js';
import { ShellExecutor } from '../steps/shell.js';
import type { Bucket } from '../remote/bucket.js';
import type { RanElsewhere } from '../steps/ran-elsewhere.js';
import { listFiles, sha256 } from '../store/hash.js';
import { StepFilePrefetcher } from '../store/prefetch.js';
import { Redactor } from '../store/redact.js';
import type { RunDir } from '../store/run-dir.js';
import { connectRedis, displayRedisUrl } from './connect.js';
import { LogPump } from './log-pump.js';
import { CANCEL_CHANNEL, CLAIM_AND_START, KEY_PREFIX, cancelledKey, KEY_TTL_MS, QUEUE_NAME, STREAM_MAX_ENTRIES, FENCED_XADD, claimKey, entryFields, lockKey, streamKey, type AttemptJob, type SentFile, type StreamEntry } from './protocol.js';
import { BucketCache, receiveFiles, sendFiles } from './transfer.js';
import { CheckoutFiles } from './checkout-files.js';
import { heartbeatWorker, type WorkerInfo } from './registry.js';
import { ScratchSlots } from './scratch.js';
import { loadQueueLib } from './load-queue-lib.js';

/** How a worker runs. */
export interface WorkerOptions {
  redisUrl: string;
  name: string;
  concurrency: number;
  tags: string[];
  /** The root of this worker's checkout: spec paths are resolved from here. */
  dir: string;
  /** BullMQ's lock on a running attempt (renewed at half of it): how soon a lost worker is noticed. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  signal: AbortSignal;
  /** One line for the worker's own log (what it took, what it refused). */
  say: (line: string) => void;
}

/** Run until `signal` aborts: then running attempts are cancelled (their process trees killed) and the worker leaves. */
export async function runWorker(o: WorkerOptions): Promise<void> {
  // Redis gone for good: the worker stops its attempts and leaves with why (the coordinator gives them up too).
  let lost: string | undefined;
  const leave = new AbortController();
  o.signal.addEventListener('abort', () => leave.abort(), { once: true });
  // While Redis is away the loss is said once (and its end), not each failed reconnection of each connection.
  let isDown = false;
  const redis = await connectRedis({
    url: o.redisUrl,
    onLost: (m) => ((lost = m), leave.abort()),
    onDown: (m) => ((isDown = true), o.say(m)),
    onBack: () => ((isDown = false), o.say(`reconnected to Redis at ${displayRedisUrl(o.redisUrl)}`)),
  });
  const where = displayRedisUrl(o.redisUrl);
  const running = new Map<string, AbortController>();
  // The name first: a second worker of the same name is refused before it has made or taken anything.
  let taken: string | undefined;
  const beat = await heartbeatWorker({
    redis,
    name: o.name,
    tags: o.tags,
    concurrency: o.concurrency,
    load: () => running.size,
    everyMs: Math.min(1_000, o.lockDurationMs / 2),
    onTaken: (h) => {
      taken = `this worker's entry at ${where} lapsed (it was paused or cut off), and ${describeWorker(h)} took the name ${o.name} meanwhile: this one leaves`;
      leave.abort();
    },
  }).catch((e: unknown) => {
    redis.disconnect();
    throw e;
  });
  if ('heldBy' in beat) {
    redis.disconnect();
    throw new OrchestratorError({ code: 'usage', message: `the worker name ${o.name} is taken at ${where}: ${describeWorker(beat.heldBy)} is connected under it; give this one another --name, or stop that one first` });
  }
  if (beat.tookOver) o.say(`the name ${o.name} was held by ${describeWorker(beat.tookOver)}, which stopped beating: taken over`);
  const { Worker: BullWorker, DelayedError } = await loadQueueLib();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `orch-worker-${o.name.replace(/[^\w.-]/g, '_')}-`));
  // Killed outright, the worker leaves no scratch folder behind: its launcher's watchdog removes it all.
  const launcher = await createLauncher({ shellSteps: o.concurrency, baseEnv: { ...process.env }, workDir: scratch });
  const slots = new ScratchSlots(scratch);
  const buckets = new BucketCache();
  const subscriber = redis.duplicate();
  subscriber.on('error', () => undefined); // the main connection reports a loss
  await subscriber.subscribe(CANCEL_CHANNEL);
  // A cancel may overtake the reply of the claim on the other connection: kept until the attempt is registered.
  const cancelledEarly = new Set<string>();
  const byCoordinator: StepError = { code: 'cancelled', message: 'cancelled by the coordinator' };
  // The worker leaves (SIGTERM, Ctrl-C): its attempts are killed and handed back, to run again elsewhere (runAttempt).
  const stopped: StepError = { code: 'worker-lost', message: `worker ${o.name} was stopped while running it` };
  subscriber.on('message', (_channel: string, jobId: string) => {
    const c = running.get(jobId);
    if (c) c.abort(byCoordinator);
    else {
      cancelledEarly.add(jobId); // most are other workers' attempts: forgotten after a minute
      setTimeout(() => cancelledEarly.delete(jobId), 60_000).unref();
    }
  });

  const worker: Worker = new BullWorker<AttemptJob>(
    QUEUE_NAME,
    async (job: Job<AttemptJob>, token?: string, jobSignal?: AbortSignal) => {
      const data = job.data;
      // A step that asks for tags this worker lacks goes back to the queue for another worker.
      if (!data.runsOn.every((t) => o.tags.includes(t))) {
        await job.moveToDelayed(Date.now() + 200, token);
        throw new DelayedError();
      }
      // BullMQ may hand a stalled job out again: an attempt runs at most once, a new one is the coordinator's call.
      const jobId = job.id!;
      const taken = await redis.eval(CLAIM_AND_START, 4, lockKey(jobId), claimKey(jobId), streamKey(jobId), cancelledKey(jobId), token!, o.name, KEY_TTL_MS, STREAM_MAX_ENTRIES, ...entryFields({ t: 'start', worker: o.name }));
      if (taken === -2) {
        const cancelled: AttemptResult = { status: 'cancelled', exitCode: null, text: '', outputs: {}, error: { code: 'cancelled', message: 'cancelled before it started' }, retryable: false };
        await redis.eval(FENCED_XADD, 2, lockKey(jobId), streamKey(jobId), token!, STREAM_MAX_ENTRIES, KEY_TTL_MS, ...entryFields({ t: 'result', result: cancelled, files: [] }));
        return;
      }
      if (taken !== 1) {
        o.say(`refused ${data.step.id} (attempt ${data.attempt}): ${taken === -1 ? 'it was already taken by another worker' : 'its lock lapsed before it started'}`);
        return;
      }
      const controller = new AbortController();
      running.set(job.id!, controller);
      if (cancelledEarly.delete(jobId)) controller.abort(byCoordinator);
      else if (leave.signal.aborted) controller.abort(stopped); // taken as the worker was told to stop
      jobSignal?.addEventListener('abort', () => controller.abort(), { once: true });
      try {
        await runAttempt({ o, redis, launcher, buckets, slots, job, token: token!, signal: controller.signal });
      } finally {
        running.delete(job.id!);
      }
    },
    {
      connection: redis,
      prefix: KEY_PREFIX,
      name: o.name,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.stalledIntervalMs,
      // A stalled attempt is never re-run under the same id: it fails, and the coordinator starts a new attempt.
      maxStalledCount: 0,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: KEY_TTL_MS / 1000 },
    },
  );
  let lastQueueError = '';
  worker.on('error', (e: Error) => {
    if (isDown || lost !== undefined || e.message === lastQueueError) return;
    lastQueueError = e.message;
    o.say(`queue: ${e.message}`);
  });
  await worker.waitUntilReady();
  o.say(`worker ${o.name} took its place at ${where} (${o.concurrency} at once${o.tags.length ? `, tags ${o.tags.join(',')}` : ''})`);
  await new Promise<void>((resolve) => (leave.signal.aborted ? resolve() : leave.signal.addEventListener('abort', () => resolve(), { once: true })));
  for (const c of running.values()) c.abort(stopped);
  // Without Redis nothing can be handed back: the attempts are killed, not waited for.
  await worker.close(lost !== undefined);
  await beat.stop(); // its entry goes now (unless another worker holds the name now), or (Redis gone) expires
  await launcher.close();
  await buckets.close();
  subscriber.disconnect();
  redis.disconnect();
  fs.rmSync(scratch, { recursive: true, force: true });
  if (lost) throw new OrchestratorError({ code: 'remote', message: lost });
  if (taken) throw new OrchestratorError({ code: 'usage', message: taken });
}

/** `worker w1 (host ci-3, pid 4242, since …)`, as messages name another worker. */
function describeWorker(w: WorkerInfo): string {
  return `worker ${w.name} (host ${w.host || '?'}, pid ${w.pid || '?'}, since ${w.started_at || '?'})`;
}

interface AttemptRun {
  o: WorkerOptions;
  redis: Redis;
  launcher: ProcessLauncher;
  buckets: BucketCache;
  slots: ScratchSlots;
  job: Job<AttemptJob>;
  token: string;
  signal: AbortSignal;
}

/** One attempt: check the checkout, run it, send the log as it grows, then the artifacts and the result. */
async function runAttempt(a: AttemptRun): Promise<void> {
  const { o, job } = a;
  const data = job.data;
  const jobId = job.id!;
  const send = async (e: StreamEntry): Promise<boolean> => (await a.redis.eval(FENCED_XADD, 2, lockKey(jobId), streamKey(jobId), a.token, STREAM_MAX_ENTRIES, KEY_TTL_MS, ...entryFields(e))) === 1;
  o.say(`running ${data.step.id} (attempt ${data.attempt}) of ${data.runId}`);
  // This worker's values of the spec's secrets: a value set only here (a deploy token on a deploy runner) is one
  // the coordinator cannot mask, so what is sent of the step's output is masked here, as a local run records it.
  const redactor = Redactor.fromEnv(data.secretNames);
  const refused = checkCheckout(o.dir, data);
  let result: AttemptResult;
  let files: SentFile[] = [];
  let workspace: SentFile[] = [];
  let cache: RanElsewhere | undefined;
  let runDir: RunDir | undefined;
  if (refused) {
    result = { status: 'failed', exitCode: null, text: '', outputs: {}, error: { code: 'checkout', message: refused }, retryable: false };
  } else {
    runDir = a.slots.take(data.runId, data.step.id);
    const specDir = path.dirname(path.resolve(o.dir, data.specPath));
    // ORCH_WORKER tells the step where it runs.
    const step = { ...data.step, cwd: path.resolve(specDir, data.cwdFromSpec), env: { ...data.step.env, ORCH_WORKER: o.name } };
    const env = { ...process.env, ...data.specEnv }; // what the step's process starts from, as in a local run
    const checkout = data.cache && new CheckoutFiles({ specDir, exclude: data.cache.exclude.map((d) => path.resolve(specDir, d)), step, env });
    const shell = new ShellExecutor({ runDir, launcher: a.launcher, redactor, files: new StepFilePrefetcher(runDir, [step.id], 1), specEnv: data.specEnv });
    const bucket = await a.buckets.get(data.bucket).catch((e: unknown) => failedWith(e));
    // The artifacts of its needs first, where they were in the coordinator's run folder.
    const restored = bucket === undefined || !data.restore?.length ? undefined : 'error' in bucket ? bucket.error : await receiveFiles(bucket, runDir.root, data.restore);
    if (restored) {
      result = { status: 'failed', exitCode: null, text: '', outputs: {}, error: { ...restored, message: `the artifacts of its needs could not be restored: ${restored.message}` }, retryable: false };
    } else {
      const pump = new LogPump(runDir.logPath(step.id), async (piece) => void (await send({ t: 'log', ...piece })));
      const context = { contexts: { ...data.contexts, env: { ...process.env } } };
      const before = checkout?.read(context);
      result = await shell.runAttempt({ step, attempt: data.attempt, signal: a.signal, context });
      await pump.finish();
      // Stopped, not cancelled: as for a lost worker, the coordinator runs the attempt again on another worker.
      if (result.status === 'cancelled' && (a.signal.reason as StepError | undefined)?.code === 'worker-lost') result = { ...result, status: 'failed', error: a.signal.reason as StepError, retryable: false };
      if (checkout && before) cache = checkout.report(before);
      const sent = await sendMade({ bucket, runDir, stepId: step.id, checkout: result.status === 'succeeded' ? checkout : undefined });
      if ('error' in sent) result = { ...result, status: 'failed', error: sent.error, retryable: false };
      else ({ files, workspace } = sent);
    }
  }
  if (!(await send({ t: 'result', result: maskResult(result, redactor), files, ...(workspace.length ? { workspace } : {}), ...(cache ? { cache } : {}) }))) {
    o.say(`the result of ${data.step.id} (attempt ${data.attempt}) was refused: the attempt was given up while this worker was away`);
  }
  if (runDir) a.slots.give(runDir, data.step.id);
}

/** What of a result comes from the step's output (text, outputs, the error's message), masked as a local run writes it. */
function maskResult(r: AttemptResult, redactor: Redactor): AttemptResult {
  if (!redactor.isActive) return r;
  const masked: AttemptResult = { ...r, text: redactor.redactCut(r.text, r.textTruncated ? 1 : 4), outputs: redactor.redactValue(r.outputs) };
  if (r.error) masked.error = { ...r.error, message: redactor.redact(r.error.message) };
  return masked;
}

/** Send what an attempt made through the bucket: its artifacts, then (a succeeded cached step) its declared workspace outputs. */
async function sendMade(o: { bucket: Bucket | undefined | { error: StepError }; runDir: RunDir; stepId: string; checkout?: CheckoutFiles }): Promise<{ files: SentFile[]; workspace: SentFile[] } | { error: StepError }> {
  if (o.bucket !== undefined && 'error' in o.bucket) return { error: o.bucket.error };
  const artifacts = await sendFiles({ root: o.runDir.root, paths: listFiles(o.runDir.root, o.runDir.artifactsDir(o.stepId), { links: true }), bucket: o.bucket, what: 'artifact(s)' });
  if ('error' in artifacts) return artifacts;
  const outputs = o.checkout ? await o.checkout.sendOutputs(o.bucket) : { files: [] };
  if ('error' in outputs) return outputs;
  return { files: artifacts.files, workspace: outputs.files };
}

/** A bucket that could not be opened, as a step error. */
function failedWith(e: unknown): { error: StepError } {
  if (!(e instanceof OrchestratorError)) throw e;
  return { error: { code: 'remote', message: e.message } };
}

/** Why this checkout cannot run the attempt (its spec differs from the coordinator's), or undefined. */
function checkCheckout(dir: string, data: AttemptJob): string | undefined {
  const file = path.resolve(dir, data.specPath);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return `this worker's checkout (${dir}) has no ${data.specPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const hash = sha256(text);
  if (hash === data.specSha256) return undefined;
  return `this worker's checkout (${dir}) has a different ${data.specPath} (SHA-256 ${hash.slice(0, 12)}…, the coordinator's is ${data.specSha256.slice(0, 12)}…): update the checkout`;
}

