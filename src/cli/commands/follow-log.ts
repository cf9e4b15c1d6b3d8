import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../../errors.js';
import { JournalWatch, type JournalEnd } from '../../store/journal-watch.js';
import { isWriterAlive } from '../../store/runs.js';
import { runFileProblem } from '../../store/run-file.js';
import type { JobManifest } from '../../store/manifest.js';

/** How often a followed log and the journal are looked at again: often enough to feel live, rarely enough to cost nothing. */
const POLL_MS = 100;
/** Bytes copied from the log at a time. */
const CHUNK_BYTES = 64 * 1024;

/** What `show --logs <step> --follow` follows, and from where. */
export interface FollowOptions {
  out: NodeJS.WritableStream;
  /** The job's run folder. */
  dir: string;
  manifest: JobManifest;
  step: string;
  /** Byte offset in the log to start from (after a `--tail` already printed). */
  from: number;
  /** Ctrl-C and SIGTERM, caught from before the log so far was printed (catchStopSignals). */
  stop: StopSignals;
}

/** SIGINT/SIGTERM caught for a follower: whether one came, and a way to be woken by it. */
export interface StopSignals {
  readonly stopped: boolean;
  onStop(wake: () => void): void;
  release(): void;
}

/** Catch SIGINT and SIGTERM from now on, before anything is printed: a Ctrl-C after the first line must end the follower with 130, never kill it. */
export function catchStopSignals(): StopSignals {
  let stopped = false;
  let wake: (() => void) | undefined;
  const onSignal = () => {
    stopped = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get stopped() {
      return stopped;
    },
    onStop(w) {
      wake = w;
    },
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Why following stopped. */
export type FollowEnd = JournalEnd | 'interrupted' | 'signal';

/**
 * Copies a running step's log to `out` as it grows, until the journal says the step (or the job) ended, the job's
 * process is gone, or SIGINT/SIGTERM arrives (`o.stop`). What was written before the end is always copied in full.
 */
export async function followLog(o: FollowOptions): Promise<FollowEnd> {
  const logFile = path.join(o.dir, 'logs', `${o.step}.log`);
  const journal = new JournalWatch(path.join(o.dir, 'events.jsonl'), o.step);
  let offset = o.from;
  for (;;) {
    // The journal first: an end seen now means the log is complete once copied below.
    const ended = journal.readEnd() ?? (isWriterAlive(o.manifest) ? undefined : 'interrupted');
    offset = await copyFrom(logFile, offset, o.out);
    if (o.stop.stopped) return 'signal';
    if (ended) return ended;
    await new Promise<void>((resolve) => {
      o.stop.onStop(resolve);
      setTimeout(resolve, POLL_MS);
    });
  }
}

/**
 * Refuses a log path that holds something other than a file (a folder put in its place): a damaged run folder
 * is said with its path (exit 2), as `report` and `resume` say it, never a crash on EISDIR. A missing log passes.
 */
export function assertLogIsFile(file: string): void {
  const problem = runFileProblem(file); // a missing log passes: the caller says that
  if (problem) throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${file}: ${problem}` });
}

/** Copies a file's bytes from `offset` to its current end; returns the new offset (the same when there is no file yet). */
async function copyFrom(file: string, offset: number, out: NodeJS.WritableStream): Promise<number> {
  assertLogIsFile(file);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return offset; // the step has printed nothing yet
    throw e;
  }
  try {
    const buf = Buffer.alloc(CHUNK_BYTES);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      if (n === 0) return offset;
      offset += n;
      if (!out.write(Buffer.from(buf.subarray(0, n)))) await once(out, 'drain');
    }
  } finally {
    fs.closeSync(fd);
  }
}
