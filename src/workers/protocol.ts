// What the coordinator and its workers exchange through Redis: the queue, the key names, the job a step's
// attempt travels as, and the entries of the attempt's stream. Plain data and names: both sides import it.
import type { AttemptResult } from '../events/step-result.js';
import type { StepSpec } from '../specfile/model.js';
import type { RanElsewhere } from '../steps/ran-elsewhere.js';

/** Redis key prefix of everything the orchestrator keeps there (BullMQ's keys included). */
export const KEY_PREFIX = 'orch';
/** The BullMQ queue attempts travel on. */
export const QUEUE_NAME = 'steps';
/** Channel the coordinator publishes cancelled attempts' job ids on. */
export const CANCEL_CHANNEL = `${KEY_PREFIX}:cancel`;
/** Log entries an attempt's stream keeps at most (older ones are trimmed: the stream is capped). */
export const STREAM_MAX_ENTRIES = 4096;
/** Streams and claims expire a day after their last write: an abandoned run leaves nothing for long. */
export const KEY_TTL_MS = 24 * 3_600_000;

/** One attempt of a shell step, as the queue carries it (BullMQ job data). */
export interface AttemptJob {
  /** The coordinator's job id (ORCH_JOB_ID for the step). */
  runId: string;
  attempt: number;
  step: StepSpec;
  /** The step's working folder relative to the spec's folder, so a worker finds it in its own checkout. */
  cwdFromSpec: string;
  /** The spec's path relative to the coordinator's working folder, and the SHA-256 of its text. */
  specPath: string;
  specSha256: string;
  /** The expression contexts but `env`: a worker fills that from its own environment. */
  contexts: Record<string, unknown>;
  /** Tags a worker must all have (`runs_on`). */
  runsOn: string[];
  /** Names of variables whose values are masked (the spec's `secrets`). */
  secretNames: string[];
  /** The spec's `env:`, under the step's own (as a local run's steps have it). */
  specEnv: Record<string, string>;
  /** `s3://…` to send artifacts through, when the run has one. */
  bucket?: string;
  /** Artifacts of the steps it needs, restored from the bucket into the worker's run folder before it runs. */
  restore?: SentFile[];
  /**
   * A cached step (SPEC §11): the worker reports what it read (its inputs' hashes before and after it ran, digests
   * of its script's values and `cache.env` values), and sends its declared workspace outputs back. `exclude`: folders never read as inputs or outputs (the coordinator's runs and cache
   * folders), relative to the spec's folder.
   */
  cache?: { exclude: string[] };
}

/** A file an attempt made, sent through the bucket by its SHA-256. */
export interface SentFile {
  /** Path in the run folder (`artifacts/<step>/…`), or, for a workspace output, in the spec's folder. */
  path: string;
  sha256: string;
  size_bytes: number;
  /** Permission bits, set on the file received. */
  mode?: number;
  /** A symbolic link (a declared workspace output): where it points; sha256 is that text's. No bytes travel. */
  link?: string;
}

/** A piece of an attempt's log: as text when it is UTF-8 (almost always), else its bytes in base64, so the log arrives byte for byte. */
export interface LogPiece {
  data: string;
  encoding?: 'base64';
}

/** What an attempt's stream carries, oldest first: who took it, its log, then its result (with the files it sent). */
export type StreamEntry =
  | { t: 'start'; worker: string }
  | ({ t: 'log' } & LogPiece)
  | { t: 'result'; result: AttemptResult; files: SentFile[]; workspace?: SentFile[]; cache?: RanElsewhere };

/** BullMQ job ids may not hold `:`; step ids never do, but instance ids are made from values. */
export function attemptJobId(runId: string, stepId: string, attempt: number): string {
  return `${runId}.${encodeURIComponent(stepId)}.${attempt}`;
}

/** The stream of one attempt. */
export function streamKey(jobId: string): string {
  return `${KEY_PREFIX}:attempt:${jobId}`;
}

/** BullMQ's lock of an active job: present while its worker is alive and renewing it. */
export function lockKey(jobId: string): string {
  return `${KEY_PREFIX}:${QUEUE_NAME}:${jobId}:lock`;
}

/** Set once by the worker that takes an attempt: a second taker (BullMQ re-running a stalled job) refuses. */
export function claimKey(jobId: string): string {
  return `${KEY_PREFIX}:claim:${jobId}`;
}

/** Set by the coordinator when it cancels an attempt: a worker that takes it afterwards does not run it. */
export function cancelledKey(jobId: string): string {
  return `${KEY_PREFIX}:cancelled:${jobId}`;
}

/** A worker's heartbeat hash. */
export function workerKey(name: string): string {
  return `${KEY_PREFIX}:worker:${name}`;
}

/** The names of the workers that have a heartbeat hash (a set: listing workers reads it, not the whole keyspace). */
export function workersSetKey(): string {
  return `${KEY_PREFIX}:workers`;
}

/**
 * Append to an attempt's stream only while the caller still holds the job's lock (its BullMQ token): the
 * fence. Once the lock lapsed (the worker was paused or cut off) the coordinator may have given the attempt
 * up; nothing of that worker is taken after that, whatever it sends when it wakes.
 * KEYS: lock, stream; ARGV: token, max entries, ttl ms, then field/value pairs.
 */
export const FENCED_XADD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;

/**
 * Take an attempt, once: claim it (a second taker, BullMQ handing out a stalled job again, gets -1) and append
 * its `start` entry, under the same fence as FENCED_XADD (0: the lock is gone already; -2: the coordinator
 * cancelled it before any worker had it). One round trip.
 * KEYS: lock, claim, stream, cancelled; ARGV: token, worker name, ttl ms, max entries, then field/value pairs.
 */
export const CLAIM_AND_START = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[4]) == 1 then return -2 end
if not redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3], 'NX') then return -1 end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
`;

/** Encode an entry as stream fields. */
export function entryFields(e: StreamEntry): string[] {
  return ['e', JSON.stringify(e)];
}

/** Decode stream fields; undefined for anything else. */
export function parseEntry(fields: string[]): StreamEntry | undefined {
  const i = fields.indexOf('e');
  if (i < 0 || fields[i + 1] === undefined) return undefined;
  return JSON.parse(fields[i + 1]!) as StreamEntry;
}
