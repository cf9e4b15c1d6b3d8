// cacache's folder layout, written and read directly for prompt answers: index lines appended to the key's bucket,
// each carrying its own SHA-1, as cacache writes them (cacache.ls, rm and prune read them as their own). An answer
// of up to INLINE_MAX_BYTES travels inside its index line (`inline`, base64), checked against the line's SHA-512
// as a content file would be; a bigger one is a content file named by its SHA-512 and put in place by rename, as
// cacache.put makes it. A store is then one append to one file: a content file cost a temp file, a rename and a
// folder or two, which on some disks cost more than the rest of a prompt step's bookkeeping, and a cache of many
// answers as many files again. `cache stats`, `cache prune`, the step cache and older versions go through cacache.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isFolder, makeFolder } from '../util/make-folder.js';

/** cacache 19's folders (its package.json's `cache-version`): content v2, index v5. */
const CONTENT_FOLDER = 'content-v2';
const INDEX_FOLDER = 'index-v5';

/** Content of at most this many bytes is kept inside its index line. */
export const INLINE_MAX_BYTES = 64 * 1024;

/** One line of a key's bucket, as cacache writes it, and the content inline when it is small (cacache ignores the field). */
export interface IndexEntry {
  key: string;
  /** Subresource Integrity of the content (`sha512-<base64>`); null marks the key removed. */
  integrity: string | null;
  time: number;
  size: number;
  metadata?: Record<string, unknown>;
  /** The content itself (base64), when it is at most INLINE_MAX_BYTES; else it is a content file. */
  inline?: string;
}

/**
 * Store `data` under `key`: one index line (one append) holding it when it is small; else, as cacache.put does, the
 * content file first (a temp file renamed into place, so a reader never sees part of one), then the line that points
 * at it. Synchronous: a few system calls, cheaper than handing each to the thread pool. Folders are made only when a
 * call finds one missing.
 */
export function putEntry(dir: string, key: string, data: Buffer, metadata: Record<string, unknown>): void {
  const digest = createHash('sha512').update(data).digest();
  const entry: IndexEntry = { key, integrity: `sha512-${digest.toString('base64')}`, time: Date.now(), size: data.length, metadata };
  if (data.length <= INLINE_MAX_BYTES) entry.inline = data.toString('base64');
  else writeContent(dir, digest.toString('hex'), data);
  appendIndexLine(dir, entry);
}

/** A hit is recorded as a use at most this often per entry: the ages prune reads are exact to within it. */
export const USE_RECORD_INTERVAL_MS = 60 * 60_000;

/**
 * Record that `entry` (found by findEntry, its content checked) was used at `now`; prune evicts by that time.
 * Nothing is written when its recorded use is under USE_RECORD_INTERVAL_MS old, so a run of hits writes nothing.
 * Otherwise the key's bucket is replaced by that one line (temp file and rename: a reader sees the old bucket or
 * the new), where cacache would append one: a bucket appended to on every hit grows by a line per run, and every
 * later lookup reads and hashes all of them. A line appended meanwhile by another run is lost with the old bucket:
 * a use, or the same key stored again (either line serves the key). A bucket removed meanwhile (a prune, a
 * `cache clear`) stays removed.
 */
export function touchEntry(dir: string, entry: IndexEntry, now = Date.now()): void {
  if (now - entry.time < USE_RECORD_INTERVAL_MS) return;
  const json = JSON.stringify({ ...entry, time: now });
  try {
    putInPlace(dir, `\n${sha1(json)}\t${json}`, (tmp) => fs.renameSync(tmp, bucketPath(dir, entry.key)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** cacache itself, for what is rare (listing, removing, big files as streams): loaded only then, as it costs tens of milliseconds to load. */
export async function loadCacache(): Promise<typeof import('cacache')> {
  return (await import('./cacache-lib.js')).default;
}

/** The newest index line of `key`, or undefined when there is none or the newest removed it. Lines that fail their SHA-1 are skipped, as cacache does. */
export function findEntry(dir: string, key: string): IndexEntry | undefined {
  return readBucket(dir, key).entry;
}

/**
 * What a key's bucket holds: its newest entry (as findEntry), whether any sound line names the key (an entry, or
 * its removal), and how many lines fail their SHA-1 or are not JSON (edited, or cut by a crash mid-append).
 */
export function readBucket(dir: string, key: string): { entry?: IndexEntry; named: boolean; badLines: number } {
  const bucket = bucketPath(dir, key);
  // Asked first, not caught: a miss (the usual answer for a new prompt) then costs no exception, which costs more than the question.
  if (!fs.existsSync(bucket)) return { named: false, badLines: 0 };
  let text: string;
  try {
    text = fs.readFileSync(bucket, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { named: false, badLines: 0 }; // removed in between
    throw e;
  }
  let found: IndexEntry | undefined;
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const json = tab < 0 ? '' : line.slice(tab + 1);
    if (json === '' || sha1(json) !== line.slice(0, tab)) {
      badLines++;
      continue;
    }
    let entry: IndexEntry | undefined;
    try {
      entry = JSON.parse(json) as IndexEntry;
    } catch {
      badLines++;
      continue;
    }
    if (entry?.key === key) found = entry;
  }
  return { ...(found?.integrity ? { entry: found } : {}), named: found !== undefined, badLines };
}

/**
 * The content of an index line (inline, or the file it points at), checked as cacache checks a content file: a
 * missing file throws ENOENT, a size that differs EBADSIZE, bytes that do not hash to it EINTEGRITY. Only a single
 * SHA-512 (what cacache.put and putEntry write); anything else is reported as content that cannot be checked
 * (EINTEGRITY).
 */
export function readContent(dir: string, entry: IndexEntry): Buffer {
  const m = /^sha512-([A-Za-z0-9+/]+={0,2})$/.exec(entry.integrity ?? '');
  if (!m) throw Object.assign(new Error(`unsupported integrity ${String(entry.integrity).slice(0, 20)}`), { code: 'EINTEGRITY' });
  const digest = Buffer.from(m[1]!, 'base64');
  const data = typeof entry.inline === 'string' ? Buffer.from(entry.inline, 'base64') : fs.readFileSync(contentPath(dir, digest.toString('hex')));
  if (data.length !== entry.size) throw Object.assign(new Error(`bad size: expected ${entry.size} bytes, found ${data.length}`), { code: 'EBADSIZE' });
  if (!createHash('sha512').update(data).digest().equals(digest)) throw Object.assign(new Error('integrity check failed'), { code: 'EINTEGRITY' });
  return data;
}

/** Temp names: random per process, then counted (a random name per entry cost more than the rest of its name). */
const tmpPrefix = randomBytes(6).toString('hex');
let tmpCount = 0;

function writeContent(dir: string, hex: string, data: Buffer): void {
  const dest = contentPath(dir, hex);
  // Over an existing file of the same name, rename puts the same bytes in its place: content is named by its hash.
  putInPlace(dir, data, (tmp) => withFolder(path.dirname(dest), () => fs.renameSync(tmp, dest)));
}

/** Write `data` to a temp file of the cache, then `rename` it into place; the temp file is removed when that throws. */
function putInPlace(dir: string, data: string | Buffer, rename: (tmp: string) => void): void {
  const tmp = path.join(dir, 'tmp', `${tmpPrefix}-${++tmpCount}`);
  withFolder(path.dirname(tmp), () => fs.writeFileSync(tmp, data, { flag: 'wx' }));
  try {
    rename(tmp);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function appendIndexLine(dir: string, entry: IndexEntry): void {
  const json = JSON.stringify(entry);
  const file = bucketPath(dir, entry.key);
  // One write with O_APPEND, as cacache's: lines of concurrent writers never interleave; a torn one fails its SHA-1.
  withFolder(path.dirname(file), () => fs.appendFileSync(file, `\n${sha1(json)}\t${json}`));
}

/** Folders this process has made or seen (by path), with the folders above them: each is looked for once, not before every write into it. */
const knownFolders = new Set<string>();

/**
 * Run `op`, which writes into `folder`, after making the folder if it is missing (a new cache, a new hash prefix).
 * Below a folder already known, each missing level is one mkdir (EEXIST when another process made it); elsewhere
 * asked first, not caught: a failed call costs an exception, dearer than the question. A folder removed after it was
 * seen (a prune meanwhile) makes `op` fail with ENOENT: it is made again and `op` runs once more.
 */
function withFolder(folder: string, op: () => void): void {
  if (!knownFolders.has(folder)) makeKnown(folder);
  try {
    op();
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  makeFolder(folder);
  op();
}

/** Make `folder` if it is missing, and know it and the folders above it from then on. */
function makeKnown(folder: string): void {
  const below: string[] = [];
  let at = folder;
  for (; !knownFolders.has(at); at = path.dirname(at)) {
    if (path.dirname(at) === at) {
      // Nothing above is known yet (the first write into this cache)
      if (!fs.existsSync(folder)) makeFolder(folder);
      for (let up = folder; !knownFolders.has(up); up = path.dirname(up)) {
        knownFolders.add(up);
        if (path.dirname(up) === up) break;
      }
      return;
    }
    below.push(at);
  }
  // A new index bucket's two hash folders: mkdir, mkdir; not access, mkdir (ENOENT), mkdir, mkdir.
  for (const f of below.reverse()) {
    try {
      fs.mkdirSync(f);
    } catch (e) {
      // A folder above went (a prune), or something that is not a folder is in the way: as makeFolder says it.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !isFolder(f)) {
        makeFolder(folder);
        knownFolders.add(folder);
        return;
      }
    }
    knownFolders.add(f);
  }
}

/**
 * The content file of an index line, as cacache names it (its algorithm's folder, then the hex digest in 2, 2 and the
 * rest): for a blob stored by cacache.put.stream (SHA-256) as for an answer (SHA-512). Undefined when the content is
 * inline, or its integrity is not a single hash.
 */
export function contentFileOf(dir: string, entry: IndexEntry): string | undefined {
  const m = /^(sha256|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(entry.integrity ?? '');
  if (typeof entry.inline === 'string' || !m) return undefined;
  return contentPath(dir, Buffer.from(m[2]!, 'base64').toString('hex'), m[1]!);
}

function contentPath(dir: string, hex: string, algorithm = 'sha512'): string {
  return path.join(dir, CONTENT_FOLDER, algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

function bucketPath(dir: string, key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return path.join(dir, INDEX_FOLDER, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
