import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { cleanLogText } from '../report/escape.js';
import { parseUntrustedJson } from '../util/json.js';
import { SECURITY_HEADERS } from './access.js';

/** How often a tailed file is looked at again: often enough to feel live, rarely enough to cost nothing. */
const POLL_MS = 150;
/** How often, while a file is quiet, the job is asked whether it can still write it. */
const LIFE_CHECK_MS = 1000;
/** A comment line this often keeps proxies and browsers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** A log page opened on a long log starts this far from its end. */
const LOG_START_BYTES = 256 * 1024;
/** At most this much of a file is sent per look. */
const CHUNK_BYTES = 256 * 1024;

/** What a stream tails and how it learns that nothing more will come. */
interface TailOptions {
  req: IncomingMessage;
  res: ServerResponse;
  file: string;
  /** Whether the writer may still append (the job or step still runs); asked about once a second while quiet. */
  isOpen: () => boolean;
}

function openStream(res: ServerResponse): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  res.write('retry: 1000\n\n');
}

/** The id a browser's EventSource sends back after a reconnect (Last-Event-ID); `firstConnect` when it sent none (or none that is an id). */
function lastEventId(req: IncomingMessage, firstConnect: number): number {
  const n = Number(req.headers['last-event-id']);
  return Number.isInteger(n) && n >= 0 ? n : firstConnect;
}

/**
 * Polls `file` from `offset`, handing each new stretch of bytes to `onBytes`, until `onBytes` says the end was seen,
 * the writer is done (then one last read), or the client goes away.
 */
function tail(o: TailOptions, offset: number, onBytes: (buf: Buffer) => 'more' | 'end'): void {
  let lastLook = Date.now();
  let lastBeat = Date.now();
  const stop = () => {
    clearInterval(timer);
    if (!o.res.writableEnded) o.res.end();
  };
  /** Tell the page nothing more will come, then stop. */
  const finish = () => {
    if (!o.res.writableEnded) o.res.write('event: end\ndata: {}\n\n');
    stop();
  };
  const readNew = (): 'more' | 'end' | 'refused' => {
    let fd: number;
    try {
      fd = fs.openSync(o.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW); // never through a link (log-tail.ts)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP') return 'refused'; // a link in a log's place: nothing is served
      return 'more'; // not written yet (a log before the step's first byte)
    }
    try {
      for (;;) {
        const size = fs.fstatSync(fd).size;
        if (size <= offset) return 'more';
        const buf = Buffer.alloc(Math.min(CHUNK_BYTES, size - offset));
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        offset += n;
        if (onBytes(buf.subarray(0, n)) === 'end') return 'end';
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  const look = () => {
    try {
      lookOnce();
    } catch {
      // The run folder went away or cannot be read (pruned, a failing disk): the stream ends, and the page says so.
      finish();
    }
  };
  const lookOnce = () => {
    const before = offset;
    const read = readNew();
    // A link in the log's place: the page is told that nothing will come (a bare close would have it reconnect, forever).
    if (read === 'refused') return finish();
    if (read === 'end') return stop();
    const now = Date.now();
    if (offset !== before) lastLook = now;
    else if (now - lastLook >= LIFE_CHECK_MS) {
      lastLook = now;
      // Done writing: what it wrote last is read once more, so nothing written before the end is missed.
      if (!o.isOpen()) {
        readNew();
        return finish();
      }
    }
    if (now - lastBeat >= HEARTBEAT_MS) {
      lastBeat = now;
      o.res.write(': still here\n\n');
    }
  };
  const timer = setInterval(look, POLL_MS);
  o.req.on('close', stop);
  look();
}

/**
 * Server-sent events of a job's journal: each line of events.jsonl as one `run` event whose id is its `seq`. A
 * reconnecting browser sends the last id it saw and gets the events after it, none missed and none twice. Ends
 * with an `end` event after job.finished, or when the job's process is gone.
 */
export function streamEvents(o: TailOptions): void {
  let lastSeq = lastEventId(o.req, 0);
  let pending = '';
  const decoder = new StringDecoder('utf8');
  openStream(o.res);
  tail(o, 0, (buf) => {
    const lines = (pending + decoder.write(buf)).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const parsed = parseUntrustedJson(line);
      if ('error' in parsed) continue; // a torn line is what a crash leaves: the journal's readers skip it too
      const e = parsed.value as { seq?: unknown; type?: unknown };
      if (typeof e.seq !== 'number' || e.seq <= lastSeq) continue;
      lastSeq = e.seq;
      o.res.write(`id: ${e.seq}\nevent: run\ndata: ${line}\n\n`);
      if (e.type === 'job.finished') {
        o.res.write('event: end\ndata: {}\n\n');
        return 'end';
      }
    }
    return 'more';
  });
}

/** Where the last whole UTF-8 character of `buf` ends: a chunk never splits one, so each event's text decodes alone. */
function utf8End(buf: Buffer): number {
  let i = buf.length;
  let back = 0;
  while (i > 0 && back < 4 && (buf[i - 1]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return buf.length;
  const lead = buf[i - 1]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need === back + 1 ? buf.length : i - 1;
}

/**
 * Server-sent events of a step's log as it is written: `log` events of text (terminal codes removed) whose id is the
 * byte offset after them, so a reconnect resumes where the page left off. A first connect to a long log starts near
 * its end with a `skipped` event saying how many bytes were left out.
 */
export function streamLog(o: TailOptions): void {
  let start = lastEventId(o.req, -1);
  openStream(o.res);
  if (start < 0) {
    let size = 0;
    try {
      size = fs.statSync(o.file).size;
    } catch {
      // no log yet
    }
    start = Math.max(0, size - LOG_START_BYTES);
    if (start > 0) o.res.write(`event: skipped\ndata: ${JSON.stringify({ bytes: start })}\n\n`);
  }
  let carry: Buffer = Buffer.alloc(0);
  let sent = start;
  tail(o, start, (buf) => {
    const all = carry.length === 0 ? buf : Buffer.concat([carry, buf]);
    const end = utf8End(all);
    carry = all.subarray(end);
    if (end > 0) {
      sent += end;
      o.res.write(`id: ${sent}\nevent: log\ndata: ${JSON.stringify(cleanLogText(all.subarray(0, end).toString('utf8')))}\n\n`);
    }
    return 'more';
  });
}
