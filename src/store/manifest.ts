import os from 'node:os';
import type { StepError } from '../errors.js';
import type { CacheSource, EventSink, InstanceCounts, JobStatus, RunEvent, StepStatus, TokenUsage } from '../events/types.js';
import type { FileRecord } from './hash.js';

/** The manifest's record of one step (SPEC §4). */
export interface StepRecord {
  status: StepStatus | 'interrupted';
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
  exit_code: number | null;
  cached: boolean;
  reused: boolean;
  error: StepError | null;
  /** `steps.<id>.text` holds only the first 16 MiB of stdout; absent when it holds all of it. */
  text_truncated?: true;
  usage?: TokenUsage;
  cache_key?: string;
  cache_key_parts?: Record<string, unknown>;
  /** A cache hit: from this machine's cache folder or the remote cache. */
  cache_source?: CacheSource;
  /** A fanned step: its instances' ids, in instance order (each has its own record). */
  instances?: string[];
  /** A fanned step that settled: its instances by final status. */
  instance_counts?: InstanceCounts;
  /** An instance: the fanned step it belongs to, and its values as a person reads them. */
  instance_of?: string;
  label?: string;
  /** A run with workers: the worker that ran each attempt, by attempt number. */
  workers?: Record<string, string>;
}

/** manifest.json (SPEC §4). `interrupted` is only ever a reader's view of a dead `running` job. */
export interface JobManifest {
  schema_version: 1;
  job_id: string;
  name: string;
  status: JobStatus | 'interrupted';
  spec: { path: string; sha256: string };
  started_at: string;
  finished_at: string | null;
  duration_s: number | null;
  concurrency: number;
  pid: number;
  /** On Linux, which process held `pid` (util/process-start.ts): a later one under the same pid is not the job's. */
  pid_start?: string;
  hostname: string;
  resumed_from?: string;
  rerun_of?: string;
  vars?: Record<string, unknown>;
  usage?: TokenUsage;
  /** Why the job failed when no step's failure explains it: its records could not be written (disk-full, io). */
  error?: StepError;
  steps: Record<string, StepRecord>;
  files: FileRecord[];
  /** A reader's note, never written: manifest.json was damaged, and this was rebuilt from the journal. */
  damaged?: string;
}

function pendingStep(): StepRecord {
  return { status: 'pending', attempts: 0, started_at: null, finished_at: null, duration_s: null, exit_code: null, cached: false, reused: false, error: null };
}

/** Folds events into the manifest: the same code serves a live job and the replay of a journal. O(1) per event. */
export class ManifestBuilder implements EventSink {
  readonly manifest: JobManifest;
  /** Files hashed when their step settled, by path: not hashed again at the end. */
  readonly knownFiles = new Map<string, FileRecord>();

  constructor(init: { jobId: string; name: string; specPath: string; specSha256: string; concurrency: number; startedAt?: string }) {
    this.manifest = {
      schema_version: 1,
      job_id: init.jobId,
      name: init.name,
      status: 'running',
      spec: { path: init.specPath, sha256: init.specSha256 },
      started_at: init.startedAt ?? new Date().toISOString(),
      finished_at: null,
      duration_s: null,
      concurrency: init.concurrency,
      pid: process.pid,
      hostname: os.hostname(),
      steps: {},
      files: [],
    };
  }

  emit(e: RunEvent): void {
    const m = this.manifest;
    if ('files' in e && e.files) for (const f of e.files) this.knownFiles.set(f.path, f);
    if ('instances' in e && e.instances && !Array.isArray(e.instances)) this.#countInstances(e.step, e.instances);
    // Own properties only: a step may be called `toString`.
    const step = 'step' in e ? (Object.hasOwn(m.steps, e.step) ? m.steps[e.step] : (m.steps[e.step] = pendingStep())) : undefined;
    switch (e.type) {
      case 'job.started':
        m.started_at = e.ts;
        m.pid = e.pid;
        if (e.pid_start !== undefined) m.pid_start = e.pid_start;
        else delete m.pid_start;
        m.vars = e.vars;
        if (e.resumed_from) m.resumed_from = e.resumed_from;
        if (e.rerun_of) m.rerun_of = e.rerun_of;
        for (const id of e.steps) if (!Object.hasOwn(m.steps, id)) m.steps[id] = pendingStep();
        return;
      case 'step.started':
        Object.assign(step!, { status: 'running', attempts: e.attempt, started_at: e.ts });
        return;
      case 'step.retrying':
        step!.attempts = e.attempt;
        return;
      case 'step.worker':
        (step!.workers ??= {})[String(e.attempt)] = e.worker;
        return;
      case 'step.expanded':
        Object.assign(step!, { status: 'running', started_at: e.ts, instances: e.instances.map((x) => x.id) });
        for (const x of e.instances) m.steps[x.id] = { ...pendingStep(), instance_of: e.step, label: x.label };
        return;
      case 'step.succeeded':
        Object.assign(step!, { status: 'succeeded', attempts: e.attempt, finished_at: e.ts, duration_s: e.duration_s, exit_code: e.exit_code, cached: e.cached, reused: e.reused, error: null });
        if (e.reused) step!.started_at = e.ts;
        if (e.text_truncated) step!.text_truncated = true;
        this.#addUsage(step!, e.usage);
        this.#addCacheKey(step!, e);
        return;
      case 'step.failed':
        Object.assign(step!, { status: 'failed', attempts: e.attempt, finished_at: e.ts, duration_s: e.duration_s, exit_code: e.exit_code, error: e.error });
        if (e.text_truncated) step!.text_truncated = true;
        this.#addUsage(step!, e.usage);
        this.#addCacheKey(step!, e);
        return;
      case 'step.skipped':
        Object.assign(step!, { status: 'skipped', error: e.error });
        return;
      case 'step.cancelled':
        Object.assign(step!, { status: 'cancelled', error: e.error, finished_at: step!.started_at ? e.ts : null, duration_s: e.duration_s ?? null });
        // Cancelled while waiting to retry: the attempt step.retrying announced never ran.
        if (e.attempt !== undefined) step!.attempts = e.attempt;
        return;
      case 'job.finished':
        m.status = e.status;
        m.finished_at = e.ts;
        m.duration_s = e.duration_s;
        if (e.error) m.error = e.error;
        return;
      default:
        return; // readers ignore event types they do not know
    }
  }

  #countInstances(id: string, counts: InstanceCounts): void {
    if (Object.hasOwn(this.manifest.steps, id)) this.manifest.steps[id]!.instance_counts = counts;
  }

  #addCacheKey(step: StepRecord, e: { cache_key?: string; cache_key_parts?: Record<string, unknown>; cache_source?: CacheSource }): void {
    if (e.cache_source) step.cache_source = e.cache_source;
    if (e.cache_key) step.cache_key = e.cache_key;
    if (e.cache_key_parts) step.cache_key_parts = e.cache_key_parts;
  }

  #addUsage(step: StepRecord, usage: TokenUsage | undefined): void {
    if (!usage) return;
    step.usage = usage;
    const total = (this.manifest.usage ??= { input_tokens: 0, output_tokens: 0 });
    total.input_tokens += usage.input_tokens;
    total.output_tokens += usage.output_tokens;
  }
}
