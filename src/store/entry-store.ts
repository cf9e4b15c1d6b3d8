import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { contentFileOf, findEntry, loadCacache, readContent, touchEntry, type IndexEntry } from './cacache-files.js';

/**
 * Where step entries and their files' bytes live: the cache folder, in cacache's layout (content verified on every
 * read, index lines that carry their own hash, writes by temp file and rename: safe with concurrent runs). A hit
 * reads it directly (cacache-files.ts: one index file, one content file); stores and blobs go through cacache.
 * Everything the step cache stores goes through this narrow interface, so that another store (a remote one) can
 * wrap it: an entry is JSON under a key, a blob is a file's bytes under their SHA-256.
 */
export interface EntryStore {
  /** The entry stored under `key`, a miss, or one that failed its integrity check (removed, and a miss). */
  getEntry(key: string): Promise<EntryLookup>;
  /** Store an entry; `blobs` are the SHA-256s it refers to (what prune keeps alive with it). */
  putEntry(key: string, o: { entry: unknown; blobs: string[]; metadata: Record<string, unknown> }): Promise<void>;
  /** Mark an entry as used now (prune evicts the least recently used first). */
  touchEntry(key: string): Promise<void>;
  /** Copy a blob into `dest`, checking its SHA-256 as it streams; throws BlobError when it is missing or wrong. */
  readBlob(sha256: string, dest: string): Promise<void>;
  /** Store a file's bytes as a blob (streamed) under its SHA-256, unless the store has it already. */
  writeBlob(sha256: string, file: string): Promise<void>;
  /**
   * Why readBlob would fail, told without reading the blob (run --dry-run): missing, or of another size than `size`,
   * in readBlob's words. Undefined when it is there with that size (its bytes are checked only when it is read).
   */
  blobProblem(sha256: string, size: number): Promise<string | undefined>;
}

/** The outcome of getEntry. */
export type EntryLookup = { kind: 'hit'; entry: unknown; source: 'local' | 'remote' } | { kind: 'miss' } | { kind: 'corrupt'; problem: string };

/** A blob that is missing or whose bytes do not hash to its name: a hit must become a miss. */
export class BlobError extends Error {}

/** cacache keys of the step cache (prompt answers use the bare key). */
export const STEP_KEY_PREFIX = 'step:';
export const BLOB_KEY_PREFIX = 'blob:';

/** The local store in a cache folder (SPEC §11). */
export function openEntryStore(dir: string): EntryStore {
  return new LocalEntryStore(dir);
}

class LocalEntryStore implements EntryStore {
  /** The index lines of the entries found by this store: a hit's touch (touchEntry) needs no second read of them. */
  readonly #found = new Map<string, IndexEntry>();

  constructor(readonly dir: string) {}

  async getEntry(key: string): Promise<EntryLookup> {
    const k = STEP_KEY_PREFIX + key;
    try {
      const found = findEntry(this.dir, k);
      if (!found) return { kind: 'miss' };
      const entry = JSON.parse(readContent(this.dir, found).toString('utf8')) as unknown;
      this.#found.set(key, found);
      return { kind: 'hit', entry, source: 'local' };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'EINTEGRITY' || err.code === 'EBADSIZE' ? 'its content does not match its recorded hash' : err.code === 'ENOENT' ? 'its content file is missing' : err instanceof SyntaxError ? 'its content is not JSON' : `it cannot be read (${err.message})`;
      await this.#discard(k);
      return { kind: 'corrupt', problem: `cache entry ${key.slice(0, 12)}… failed its integrity check: ${why}` };
    }
  }

  async putEntry(key: string, o: { entry: unknown; blobs: string[]; metadata: Record<string, unknown> }): Promise<void> {
    const cacache = await loadCacache();
    // Bytes, not a string: cacache records a string's length in UTF-16 units as the entry's size, and any
    // character beyond ASCII (a test runner's ✔) then made every later read of the entry fail its size check.
    await cacache.put(this.dir, STEP_KEY_PREFIX + key, Buffer.from(JSON.stringify(o.entry)), { metadata: { ...o.metadata, kind: 'step', blobs: o.blobs } });
  }

  async touchEntry(key: string): Promise<void> {
    const found = this.#found.get(key) ?? findEntry(this.dir, STEP_KEY_PREFIX + key);
    this.#found.delete(key);
    if (found) touchEntry(this.dir, found);
  }

  async readBlob(sha256: string, dest: string): Promise<void> {
    const hash = createHash('sha256');
    const cacache = await loadCacache();
    try {
      const source = cacache.get.stream(this.dir, BLOB_KEY_PREFIX + sha256);
      source.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(source, fs.createWriteStream(dest));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const blob = `the blob ${sha256.slice(0, 12)}…`;
      // Bad bytes go, so that the step's next store puts good ones in their place (cacache never overwrites content).
      if (code === 'EINTEGRITY' || code === 'EBADSIZE') this.#removeBlobContent(sha256);
      // EBADSIZE (a truncated blob) is a mismatch too; cacache's own text spans lines ("Wanted: … Found: …"), and a warning is one line.
      throw new BlobError(code === 'ENOENT' ? `${blob} is missing` : code === 'EINTEGRITY' || code === 'EBADSIZE' ? `${blob} does not match its recorded hash` : `${blob} cannot be read (${oneLine((e as Error).message)})`);
    }
    if (hash.digest('hex') !== sha256) throw new BlobError(`the blob ${sha256.slice(0, 12)}… does not hash to its name`);
  }

  async blobProblem(sha256: string, size: number): Promise<string | undefined> {
    const found = findEntry(this.dir, BLOB_KEY_PREFIX + sha256);
    const file = found && contentFileOf(this.dir, found);
    const st = file === undefined ? undefined : fs.statSync(file, { throwIfNoEntry: false });
    if (!st) return `the blob ${sha256.slice(0, 12)}… is missing`;
    return st.size === size && found!.size === size ? undefined : `the blob ${sha256.slice(0, 12)}… does not match its recorded hash`;
  }

  async writeBlob(sha256: string, file: string): Promise<void> {
    const key = BLOB_KEY_PREFIX + sha256;
    // Not by its index line alone: a blob whose content file was lost or cut short is stored again, or every later
    // run of the step would miss on it. A content file of another size is removed first: cacache keeps one in place.
    if ((await this.blobProblem(sha256, fs.statSync(file).size)) === undefined) return;
    this.#removeBlobContent(sha256);
    const cacache = await loadCacache();
    await pipeline(fs.createReadStream(file), cacache.put.stream(this.dir, key, { algorithms: ['sha256'], metadata: { kind: 'blob' } }));
  }

  /** Remove a blob's content file, when there is one; its index line stays (a store of the blob writes the file again). */
  #removeBlobContent(sha256: string): void {
    const found = findEntry(this.dir, BLOB_KEY_PREFIX + sha256);
    const file = found && contentFileOf(this.dir, found);
    if (file) fs.rmSync(file, { force: true });
  }

  /** Remove a bad entry and its content (or a later store of the same bytes would keep the bad file). */
  async #discard(key: string): Promise<void> {
    try {
      const cacache = await loadCacache();
      const info = await cacache.get.info(this.dir, key);
      if (info) await cacache.rm.content(this.dir, info.integrity);
      await cacache.rm.entry(this.dir, key);
    } catch {
      // Left for prune: the lookup is a miss either way, and the warning already says the entry is bad.
    }
  }
}

/** A library's message on one line: its line breaks and their indents become "; ". */
function oneLine(message: string): string {
  return message.trim().replace(/\s*\n\s*/g, '; ');
}
