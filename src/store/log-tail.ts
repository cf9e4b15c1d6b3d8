import fs from 'node:fs';

/** How much a read backwards takes at a time. */
const CHUNK_BYTES = 64 * 1024;
/** How far above the tail failure lines are looked for: a log can be any size, a summary must not read it all. */
export const FAILURE_SCAN_BYTES = 1024 * 1024;
/** At most this many failure lines are quoted above a tail. */
export const MAX_FAILURE_LINES = 10;
/** A quoted failure line is cut to this many characters. */
const FAILURE_LINE_CHARS = 200;
/** Never more than this is read for a tail (a log of one endless line has no line boundary to stop at)… */
const MAX_READ_BYTES = 4 * 1024 * 1024;
/** …unless many lines are asked for: then up to this much per line. */
const MAX_READ_BYTES_PER_LINE = 1024;

/**
 * Lines that usually say what failed: TAP's `not ok`, test runners' FAIL / ✗ / ✖, `Error:` (also `TypeError:` …) and
 * `error:` (compilers, Rust), AssertionError, Python's Traceback, Go's panic.
 */
const FAILURE_LINE = /\bnot ok\b|\bFAIL(?:ED|URE)?\b|[Ee]rror:|[\u2717\u2716]|AssertionError|^Traceback \(most recent call last\)|^panic:/;

/** The end of a log: its last lines, and the lines above them that look like failures. */
export interface LogLines {
  /** The last lines asked for (fewer if the log is shorter), trailing blank lines dropped. */
  tail: string[];
  /** Lines above the tail that look like failures, in order, each cut to 200 characters: at most MAX_FAILURE_LINES, the last ones. */
  failures: string[];
  /** How many failure lines matched in all (more than `failures.length` when some were left out). */
  failureCount: number;
  /** Lines above the tail (of the last attempt, with `lastAttempt`); undefined when the log is longer than what was read. */
  earlier: number | undefined;
  /** With `lastAttempt`: true when the lines are the last attempt's alone, its marker found (the earlier attempts' are above it). */
  lastAttemptOnly?: boolean;
  /** The log's size when it was read: where what it adds later begins. */
  end: number;
}

/** Which lines of a log to read, and how long a tail line may be. */
export interface LogLinesOptions {
  lines: number;
  /** Cut longer tail lines to this many characters, saying how many were left out (for summaries, not for `show`). */
  lineChars?: number;
  /**
   * The step's last attempt, when it had more than one: the lines are taken from that attempt's `--- attempt N ---`
   * line on (when it is within what is read), so a summary quotes the failure that counted, not each attempt's again.
   */
  lastAttempt?: number;
}

/**
 * The last `lines` lines of a log read from its end in bounded chunks (at most 4 MiB, or 1 KiB a line when more
 * lines are asked for), with failure-looking lines from up to 1 MiB above them; undefined if there is no file.
 */
export function readLogLines(file: string, { lines, lineChars, lastAttempt }: LogLinesOptions): LogLines | undefined {
  const cap = Math.max(MAX_READ_BYTES, lines * MAX_READ_BYTES_PER_LINE);
  return withFile(file, (fd, size) => {
    // One more newline than lines wanted, so the first line kept is whole; a trailing newline does not count.
    const { buf, start } = readBack(fd, size, (bytes, newlines) => (newlines > lines + 1 && bytes >= FAILURE_SCAN_BYTES) || bytes >= cap);
    let text = buf.toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1); // the first line read is cut: drop it
    let all = text.replace(/\s+$/, '').split('\n');
    if (all.length === 1 && all[0] === '') all.pop();
    const marker = lastAttempt !== undefined && lastAttempt > 1 ? all.lastIndexOf(`--- attempt ${lastAttempt} ---`) : -1;
    if (marker >= 0) all = all.slice(marker + 1);
    const above = all.slice(0, Math.max(0, all.length - lines));
    const matched = above.filter((l) => FAILURE_LINE.test(l));
    return {
      tail: all.slice(above.length).map((l) => (lineChars !== undefined && l.length > lineChars ? `${l.slice(0, lineChars)}… (${l.length - lineChars} more characters)` : l)),
      failures: matched.slice(-MAX_FAILURE_LINES).map((l) => (l.length > FAILURE_LINE_CHARS ? `${l.slice(0, FAILURE_LINE_CHARS - 1)}…` : l)),
      failureCount: matched.length,
      earlier: start === 0 || marker >= 0 ? above.length : undefined,
      ...(marker >= 0 ? { lastAttemptOnly: true } : {}),
      end: size,
    };
  });
}

/** The last `max` bytes of a log, starting at a line boundary when one is near; undefined if there is no file. */
export function readLogEnd(file: string, max: number): { text: string; omittedBytes: number } | undefined {
  return withFile(file, (fd, size) => {
    const { buf: read, start: readStart } = readBack(fd, size, (bytes) => bytes >= max);
    const extra = Math.max(0, read.length - max);
    const buf = read.subarray(extra);
    const start = readStart + extra;
    if (start === 0) return { text: buf.toString('utf8'), omittedBytes: 0 };
    // Cut at the first newline (within reach) so the tail does not open mid-line or mid-character.
    const nl = buf.indexOf(0x0a);
    const cut = nl >= 0 && nl < 4096 ? nl + 1 : 0;
    return { text: buf.subarray(cut).toString('utf8'), omittedBytes: start + cut };
  });
}

function withFile<T>(file: string, read: (fd: number, size: number) => T): T | undefined {
  let fd: number;
  try {
    // Never through a link: a step's log is a file the job wrote, and a link in its place (put there since) may lead
    // out of the run folder, which the web app must never serve. Such a log reads as none.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw e;
  }
  try {
    return read(fd, fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads an open file backwards, a chunk at a time, until `isEnough(bytes read, newlines seen)` or its start. */
function readBack(fd: number, size: number, isEnough: (bytes: number, newlines: number) => boolean): { buf: Buffer; start: number } {
  const chunks: Buffer[] = [];
  let start = size;
  let newlines = 0;
  while (start > 0 && !isEnough(size - start, newlines)) {
    const length = Math.min(CHUNK_BYTES, start);
    start -= length;
    const chunk = Buffer.alloc(length);
    fs.readSync(fd, chunk, 0, length, start);
    chunks.unshift(chunk);
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) newlines++;
  }
  return { buf: Buffer.concat(chunks), start };
}
