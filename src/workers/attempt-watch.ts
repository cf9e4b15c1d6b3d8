// Follows the coordinator's attempts on workers: one blocking XREAD over every attempt's stream writes their
// logs into the run folder and settles each with its result; a check every `checkMs` finds the attempts whose
// worker is gone (BullMQ's lock lapsed, no result: `worker-lost`), those no worker takes (`no-worker`), and
// gives up cancelled ones. Only this process writes the run folder.
import fs from 'node:fs';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StepError } from '../errors.js';
import type { AttemptResult } from '../events/step-result.js';
import type { RunEventBody } from '../events/types.js';
import type { Bucket } from '../remote/bucket.js';
import type { RanElsewhere } from '../steps/ran-elsewhere.js';
import type { RunDir } from '../store/run-dir.js';
import { CANCEL_CHANNEL, KEY_PREFIX, KEY_TTL_MS, cancelledKey, lockKey, parseEntry, streamKey, type SentFile, type StreamEntry } from './protocol.js';
import { msFrom } from '../util/env-ms.js';
import { listWorkers } from './registry.js';
import { receiveFiles } from './transfer.js';

/** How patient the coordinator is (ORCH_WORKER_* variables; see docs/spec.md). */
export interface WatchTimings {
  /** How often running attempts' locks and waiting attempts are checked. */
  checkMs: number;
  /** How long an attempt may wait for a worker that has the tags it needs before it fails `no-worker`. */
  noWorkerMs: number;
  /** How long a cancelled attempt's worker has to confirm before the attempt is recorded cancelled anyway. */
  cancelGraceMs: number;
}

/** The coordinator's timings: ORCH_WORKER_CHECK_MS (1000), ORCH_NO_WORKER_MS (30000), ORCH_CANCEL_GRACE_MS (10000). */
export function watchTimings(env: NodeJS.ProcessEnv = process.env): WatchTimings {
  return { checkMs: msFrom(env, 'ORCH_WORKER_CHECK_MS', 1_000), noWorkerMs: msFrom(env, 'ORCH_NO_WORKER_MS', 30_000), cancelGraceMs: msFrom(env, 'ORCH_CANCEL_GRACE_MS', 10_000) };
}

/** What the watch needs. */
export interface WatchOptions {
  redis: Redis;
  queue: Queue;
  bucket?: Bucket;
  runDir: RunDir;
  /** The spec's folder: where a cached step's declared workspace outputs are received. */
  specDir: string;
  emit: (e: RunEventBody) => void;
  timings: WatchTimings;
  /** The Redis URL as messages show it. */
  where: string;
}

interface Followed {
  jobId: string;
  stepId: string;
  attempt: number;
  runsOn: string[];
  /** A cached step's declared workspace outputs: the paths (relative to the spec's folder) it may send back. */
  declared?: (rel: string) => boolean;
  lastId: string;
  worker?: string;
  queuedAt: number;
  cancelledAt?: number;
  /** Its result came, and its files are being received: no longer a question of whether its worker lives. */
  hasResult?: boolean;
  log?: number;
  done: (r: RemoteOutcome) => void;
}

/** How an attempt on a worker ended: its result, the worker that ran it, and (a cached step) what it read there. */
export interface RemoteOutcome {
  result: AttemptResult;
  worker?: string;
  cache?: RanElsewhere;
}

/** Whether stream id `a` comes after `b` (`ms-seq`). */
function isAfter(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs = 0n] = b.split('-').map(BigInt) as [bigint, bigint?];
  return am > bm || (am === bm && as > bs);
}

const failed = (error: StepError, retryable = false): AttemptResult => ({ status: 'failed', exitCode: null, text: '', outputs: {}, error, retryable });

/** The coordinator's view of its attempts on workers. */
export class AttemptWatch {
  readonly #o: WatchOptions;
  readonly #followed = new Map<string, Followed>();
  readonly #reader: Redis;
  /** The read loop has started (it is never waited for: see close). */
  #reading = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** A stream of this watch's own: written to wake its blocking read when an attempt is added to it. */
  readonly #wakeKey: string;

  constructor(o: WatchOptions) {
    this.#o = o;
    this.#reader = o.redis.duplicate(); // XREAD BLOCK holds its connection
    this.#reader.on('error', () => undefined);
    this.#wakeKey = `${KEY_PREFIX}:wake:${o.runDir.jobId}:${process.pid}`;
  }

  /** Follow one attempt (before it is queued, so nothing it sends is missed); resolves with its result. */
  follow(a: { jobId: string; stepId: string; attempt: number; runsOn: string[]; declared?: (rel: string) => boolean; signal: AbortSignal }): Promise<RemoteOutcome> {
    return new Promise((resolve) => {
      const f: Followed = { jobId: a.jobId, stepId: a.stepId, attempt: a.attempt, runsOn: a.runsOn, ...(a.declared ? { declared: a.declared } : {}), lastId: '0', queuedAt: Date.now(), done: resolve };
      this.#followed.set(a.jobId, f);
      // A read blocked on the streams followed so far would see this one's entries only when it times out.
      void this.#o.redis.xadd(this.#wakeKey, 'MAXLEN', '1', '*', 'w', '1').catch(() => undefined);
      const onAbort = () => void this.#cancel(f);
      if (a.signal.aborted) onAbort();
      else a.signal.addEventListener('abort', onAbort, { once: true });
      this.#start();
    });
  }

  /** End an attempt with this result (once: later results for it are ignored). */
  settle(jobId: string, result: AttemptResult, cache?: RanElsewhere): void {
    const f = this.#followed.get(jobId);
    if (!f) return;
    this.#followed.delete(jobId);
    if (f.log !== undefined) fs.closeSync(f.log);
    f.done({ result, ...(f.worker !== undefined ? { worker: f.worker } : {}), ...(cache ? { cache } : {}) });
  }

  /** Redis is gone: every attempt fails with why. */
  failAll(message: string): void {
    for (const id of [...this.#followed.keys()]) this.settle(id, failed({ code: 'remote', message }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#reader.disconnect();
    await this.#o.redis.del(this.#wakeKey).catch(() => undefined);
    // The read loop is not waited for: a read sent while its connection was reconnecting can stay queued in
    // ioredis for ever once the connection is dropped (with nothing left to keep this process alive, the job
    // would end there, unrecorded). Whatever it still brings is not taken (#closed).
  }

  #start(): void {
    this.#timer ??= setInterval(() => void this.#check().catch(() => undefined), this.#o.timings.checkMs);
    if (this.#reading) return;
    this.#reading = true;
    void this.#read();
  }

  async #read(): Promise<void> {
    while (!this.#closed) {
      const list = [...this.#followed.values()];
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.#reader.xread('COUNT', 200, 'BLOCK', 1000, 'STREAMS', this.#wakeKey, ...list.map((f) => streamKey(f.jobId)), '$', ...list.map((f) => f.lastId))) as typeof reply;
      } catch {
        if (this.#closed) return;
        await new Promise((r) => setTimeout(r, 100)); // reconnecting; a lost connection fails every attempt via failAll
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        const f = list.find((x) => streamKey(x.jobId) === key);
        if (f) for (const [id, fields] of entries) await this.#take(f, id, fields);
      }
    }
  }

  async #take(f: Followed, id: string, fields: string[]): Promise<void> {
    // Closed, settled already (fenced off), or an entry the other reader took first.
    if (this.#closed || this.#followed.get(f.jobId) !== f || !isAfter(id, f.lastId)) return;
    f.lastId = id;
    const e: StreamEntry | undefined = parseEntry(fields);
    if (!e) return;
    switch (e.t) {
      case 'start':
        f.worker = e.worker;
        this.#o.emit({ type: 'step.worker', step: f.stepId, attempt: f.attempt, worker: e.worker });
        return;
      case 'log':
        f.log ??= fs.openSync(this.#o.runDir.logPath(f.stepId), f.attempt === 1 ? 'w' : 'a');
        fs.writeSync(f.log, Buffer.from(e.data, e.encoding === 'base64' ? 'base64' : 'utf8'));
        return;
      case 'result': {
        f.hasResult = true;
        // Every file is checked before the result is recorded; a cached step's workspace outputs go into the spec's folder.
        const bad = this.#stray(f, e.files, e.workspace ?? []) ?? (await this.#receive(e.files, this.#o.runDir.root)) ?? (await this.#receive(e.workspace ?? [], this.#o.specDir));
        this.settle(f.jobId, bad ? { ...e.result, status: 'failed', error: bad, retryable: false } : e.result, e.cache);
        return;
      }
      default: {
        const _x: never = e;
        return _x;
      }
    }
  }

  /** A file the worker sent that the step could not have made: an artifact outside its own folder, or a workspace file it did not declare. */
  #stray(f: Followed, files: SentFile[], workspace: SentFile[]): StepError | undefined {
    const own = `${path.relative(this.#o.runDir.root, this.#o.runDir.artifactsDir(f.stepId)).split(path.sep).join('/')}/`;
    const artifact = files.find((x) => !x.path.startsWith(own));
    if (artifact) return { code: 'remote', message: `worker ${f.worker ?? '?'} sent ${artifact.path}, outside the step's artifacts (${own}): refused, nothing received` };
    const undeclared = workspace.find((x) => !f.declared?.(x.path));
    if (undeclared) return { code: 'remote', message: `worker ${f.worker ?? '?'} sent ${undeclared.path}, which matches none of the step's cache.outputs: refused, nothing received` };
    return undefined;
  }

  /** Files a worker sent (through the bucket; links in the message), received under `root`; why not, as a step error. */
  async #receive(files: SentFile[], root: string): Promise<StepError | undefined> {
    return files.length === 0 ? undefined : receiveFiles(this.#o.bucket, root, files);
  }

  /** Every checkMs: lost workers, attempts no worker takes, cancellations never confirmed. */
  async #check(): Promise<void> {
    const now = Date.now();
    const t = this.#o.timings;
    for (const f of [...this.#followed.values()]) {
      if (f.hasResult) continue;
      if (f.cancelledAt !== undefined && now - f.cancelledAt > t.cancelGraceMs) {
        this.settle(f.jobId, { ...failed({ code: 'cancelled', message: `cancelled (worker ${f.worker ?? '?'} did not confirm within ${t.cancelGraceMs / 1000} s)` }), status: 'cancelled' });
      } else if (f.worker !== undefined) {
        await this.#checkAlive(f);
      } else if (now - f.queuedAt > t.noWorkerMs) {
        await this.#checkTaken(f);
      }
    }
  }

  /** A started attempt whose lock has lapsed and whose stream holds no result will never send one (the fence). */
  async #checkAlive(f: Followed): Promise<void> {
    const r = this.#o.redis;
    if ((await r.exists(lockKey(f.jobId))) === 1) return;
    for (const [id, fields] of await r.xrange(streamKey(f.jobId), `(${f.lastId}`, '+')) await this.#take(f, id, fields);
    if (f.hasResult || this.#followed.get(f.jobId) !== f) return; // its result came after all (maybe to the other reader)
    await this.#o.queue.remove(f.jobId).catch(() => undefined);
    this.settle(f.jobId, failed({ code: 'worker-lost', message: `worker ${f.worker} was lost while running it (its lock lapsed)` })); // the scheduler says whether it runs again
  }

  /** An attempt still waiting after noWorkerMs: failed when no connected worker could take it. */
  async #checkTaken(f: Followed): Promise<void> {
    const workers = await listWorkers(this.#o.redis);
    if (workers.some((w) => f.runsOn.every((tag) => w.tags.includes(tag)))) return; // busy, not absent: keep waiting
    if ((await this.#o.queue.remove(f.jobId)) !== 1) return; // a worker took it meanwhile
    const wanted = f.runsOn.length ? `with tags ${f.runsOn.join(', ')} ` : '';
    const seen = workers.length ? ` (connected: ${workers.map((w) => `${w.name} [${w.tags.join(',')}]`).join(', ')})` : '';
    this.settle(f.jobId, failed({ code: 'no-worker', message: `no worker ${wanted}took the step within ${this.#o.timings.noWorkerMs / 1000} s at ${this.#o.where}${seen}: start one with \`orchestrator worker --redis …\`` }));
  }

  /** Ctrl-C: tell the worker to kill the attempt's process tree; an attempt no worker took yet is taken off the queue. */
  async #cancel(f: Followed): Promise<void> {
    f.cancelledAt = Date.now();
    const cancelled = { ...failed({ code: 'cancelled', message: 'cancelled' }), status: 'cancelled' as const };
    try {
      // Marked first: a worker that takes it from here on sends it back cancelled instead of running it.
      await this.#o.redis.set(cancelledKey(f.jobId), '1', 'PX', KEY_TTL_MS);
      if (f.worker === undefined && (await this.#o.queue.remove(f.jobId)) === 1) return this.settle(f.jobId, cancelled);
      await this.#o.redis.publish(CANCEL_CHANNEL, f.jobId);
    } catch {
      this.settle(f.jobId, cancelled);
    }
  }
}
