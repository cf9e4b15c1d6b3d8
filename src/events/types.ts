// Plain data: the events, and what they carry. Imports nothing: every room may depend on it.

/** Codes a step failure carries in events and the manifest. */
export type StepErrorCode =
  | 'exit'
  | 'timeout'
  | 'idle-timeout'
  | 'contract'
  | 'provider'
  | 'cancelled'
  | 'expression'
  | 'spawn'
  | 'output'
  | 'skipped'
  | 'reuse'
  | 'disk-full'
  | 'io'
  | 'worker-lost'
  | 'no-worker'
  | 'checkout'
  | 'remote';

/** Why a step failed, was skipped or was cancelled. */
export interface StepError {
  code: StepErrorCode;
  message: string;
}

/** One file of a run folder as the manifest lists it. */
export interface FileRecord {
  path: string;
  sha256: string;
  size_bytes: number;
}


/** Lifecycle of a step, in the spec's words. */
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** Lifecycle of a job as recorded; `interrupted` is what readers report for a dead `running` job. */
export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Fields every event carries, stamped by the bus. */
export interface EventBase {
  ts: string;
  seq: number;
  job_id: string;
}

/** An event as the scheduler emits it, before the bus stamps ts/seq/job_id. */
export type RunEventBody =
  | {
      type: 'job.started';
      name: string;
      spec_path: string;
      concurrency: number;
      pid: number;
      /** On Linux, `<boot id>/<start ticks>` of the process `pid` (the manifest's `pid_start`). */
      pid_start?: string;
      steps: string[];
      /** The job's vars after --var overrides (resume and rerun use them again). */
      vars: Record<string, unknown>;
      resumed_from?: string;
      rerun_of?: string;
    }
  | { type: 'step.started'; step: string; attempt: number }
  /** A worker took this attempt (a run with --workers). */
  | { type: 'step.worker'; step: string; attempt: number; worker: string }
  | {
      /** A step with matrix or for_each became these instances, in instance order (SPEC §8); each then has its own step.* events. */
      type: 'step.expanded';
      step: string;
      instances: ExpandedInstance[];
    }
  | { type: 'step.retrying'; step: string; attempt: number; delay_s: number; error: StepError }
  | {
      type: 'step.succeeded';
      step: string;
      attempt: number;
      exit_code: number | null;
      duration_s: number;
      cached: boolean;
      reused: boolean;
      /** `steps.<id>.text` holds only the first 16 MiB of stdout; absent when it holds all of it. */
      text_truncated?: true;
      usage?: TokenUsage;
      cache_key?: string;
      /** What the response-cache key was made of, so a user can see why a step missed. */
      cache_key_parts?: Record<string, unknown>;
      /** A cache hit: found in this machine's cache folder, or in the remote cache (SPEC §5). */
      cache_source?: CacheSource;
      /** Remote-cache problems met by the step (an entry refused, the bucket not answering): each a miss or an unwritten entry. */
      cache_warnings?: string[];
      /** outputs/<step>.json and artifacts/<step>/*, hashed when the step settled (what resume verifies). */
      files?: FileRecord[];
      /** A fanned step: its instances by final status. */
      instances?: InstanceCounts;
    }
  | {
      type: 'step.failed';
      step: string;
      attempt: number;
      exit_code: number | null;
      duration_s: number;
      error: StepError;
      continue_on_error: boolean;
      text_truncated?: true;
      usage?: TokenUsage;
      cache_key?: string;
      cache_key_parts?: Record<string, unknown>;
      cache_warnings?: string[];
      files?: FileRecord[];
      instances?: InstanceCounts;
    }
  | { type: 'step.skipped'; step: string; error: StepError; files?: FileRecord[] }
  | { type: 'step.cancelled'; step: string; attempt?: number; duration_s?: number; error: StepError; files?: FileRecord[]; instances?: InstanceCounts }
  | {
      type: 'job.finished';
      status: Exclude<JobStatus, 'running'>;
      duration_s: number;
      /** Why the job failed when no step's failure explains it: its records could not be written (disk-full, io). */
      error?: StepError;
    };

/** One instance of a fanned step, as `step.expanded` lists it. */
export interface ExpandedInstance {
  id: string;
  /** Its values as a person reads them (`chapter-2.txt`, `llama3.2, q1`). */
  label: string;
  matrix?: Record<string, unknown>;
  /** Present only when the step has `for_each`. */
  item?: unknown;
}

/** How many instances of a fanned step ended in each status. */
export type InstanceCounts = Partial<Record<'succeeded' | 'failed' | 'skipped' | 'cancelled', number>>;

/** One line of events.jsonl. */
export type RunEvent = EventBase & RunEventBody;

/** Where a cache hit was found. */
export type CacheSource = 'local' | 'remote';

/** Token counts reported by an LLM provider. */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
}

/** Anything that consumes events: the journal, the manifest builder, renderers. */
export interface EventSink {
  emit(event: RunEvent): void;
}
