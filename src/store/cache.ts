import envPaths from 'env-paths';
import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import type { CacheSource, TokenUsage } from '../events/types.js';
import { loadCacache, putEntry, readBucket, readContent, touchEntry } from './cacache-files.js';
import { sha256 } from './hash.js';
import { makeFolder } from '../util/make-folder.js';

/** Bumped when what a key covers or how an entry is stored changes: old entries then simply miss. */
export const CACHE_FORMAT = 1;

/** A stored answer: only complete ones (`stop`) are ever stored. */
export interface CachedAnswer {
  text: string;
  finish_reason: string;
  usage?: TokenUsage;
  stored_at: string;
}

/** What a cache entry's content holds (JSON, secrets masked). */
interface StoredEntry {
  format: number;
  /** The key parts, for people reading the cache; the key itself is cacache's index key. */
  parts: Record<string, unknown>;
  answer: CachedAnswer;
}

/**
 * The outcome of a lookup: a hit, a plain miss, or an entry that failed its checks (reported, removed, and a miss).
 * `problems`: what went wrong on the way that the user should see (a remote entry refused), each a miss.
 */
export type CacheLookup = ({ kind: 'hit'; answer: CachedAnswer; source: CacheSource } | { kind: 'miss' } | { kind: 'corrupt'; problem: string }) & { problems: string[] };

/** An entry's bytes as an AnswerStore read them, and where from. */
export interface EntryBytes {
  data: Buffer;
  metadata: Record<string, unknown>;
  source: CacheSource;
}

/**
 * Where prompt answers' bytes are kept, by key: the cache folder (cacache), or that folder layered over a shared
 * bucket (src/remote/remote-cache.ts). Every read and write of an answer goes through one. (Cached run steps have
 * their own store, entry-store.ts, with blobs; the remote cache wraps it the same way.)
 */
export interface AnswerStore {
  /** The entry, or undefined with the problems met (each a miss). Damage in the local folder throws an error with cacache's codes (ENOENT, EBADSIZE, EINTEGRITY). */
  read(key: string): Promise<{ entry?: EntryBytes; problems: string[] }>;
  /** Store an entry; returns problems that did not stop the local write (a remote write that failed). */
  write(key: string, data: string | Buffer, metadata: Record<string, unknown>): Promise<string[]>;
}

/** Wraps the local AnswerStore in another layer (the remote cache). */
export type AnswerLayer = (local: AnswerStore) => AnswerStore;

/** The answers of a cache folder, under `layer` (the remote cache) when one is given. */
export function openAnswerStore(dir: string, layer?: AnswerLayer): AnswerStore {
  const local = localAnswerStore(dir);
  return layer ? layer(local) : local;
}

/** The cache folder itself as an AnswerStore: cacache's layout, read and written by cacache-files.ts. */
function localAnswerStore(dir: string): AnswerStore {
  return {
    async read(key) {
      let bucket = readBucket(dir, key);
      // A line another run is appending at this moment can read as cut: a second look sees it whole.
      if (!bucket.named && bucket.badLines > 0) bucket = readBucket(dir, key);
      const { entry: found, named, badLines } = bucket;
      // Only lines that fail their own check, nothing sound for the key: an entry damaged (edited, or cut by a crash).
      if (!named && badLines > 0) throw Object.assign(new Error('its index line fails its own SHA-1'), { code: 'EBADINDEX' });
      if (!found) return { problems: [] };
      // Checked against the size and SHA-512 the index recorded (EBADSIZE, EINTEGRITY); a missing content file throws ENOENT.
      const data = readContent(dir, found);
      touchEntry(dir, found); // a hit is a use (prune evicts the least recently used)
      return { entry: { data, metadata: found.metadata ?? {}, source: 'local' }, problems: [] };
    },
    async write(key, data, metadata) {
      putEntry(dir, key, typeof data === 'string' ? Buffer.from(data) : data, metadata);
      return [];
    },
  };
}

/**
 * `--cache-dir`, else `$ORCH_CACHE_DIR`, else the user's cache folder (SPEC §5): `$XDG_CACHE_HOME/orchestrator`
 * or `~/.cache/orchestrator` on Linux, `~/Library/Caches/orchestrator` on macOS. Not the runs folder: runs are
 * per project and pruned, answers are worth keeping across projects.
 */
export function cacheDirOf(o: { cacheDir?: string }, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(o.cacheDir ?? (env.ORCH_CACHE_DIR || envPaths('orchestrator', { suffix: '' }).cache));
}

/**
 * Earlier versions kept the cache in `<runs-dir>/.cache`. When such a folder exists and is not the cache in
 * use, what to do about it (its answers are no longer read); undefined otherwise.
 */
export function oldCacheNotice(runsDir: string, cacheDir: string): string | undefined {
  const old = path.resolve(runsDir, '.cache');
  if (old === path.resolve(cacheDir) || !fs.existsSync(path.join(old, 'index-v5'))) return undefined;
  return `${old} is the response cache of an older version and is no longer read (the cache is now ${cacheDir}); to keep its answers, move it there or pass --cache-dir ${old}, else remove it`;
}

/** JSON with object keys sorted at every level and no whitespace: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`cannot put ${value} in a cache key`);
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The response-cache key: SHA-256 of the canonical JSON of everything that shapes the answer. */
export function cacheKey(parts: Record<string, unknown>): string {
  return sha256(canonicalJson(parts));
}

/**
 * The content-addressed response cache (SPEC §5), stored with cacache: content files named by their SHA-512 and
 * verified on every read, an append-only index whose lines carry their own hash, writes by temp file and rename —
 * safe when several runs read and write at once.
 */
export class ResponseCache {
  readonly dir: string;
  readonly #entries: AnswerStore;

  private constructor(dir: string, layer?: AnswerLayer) {
    this.dir = dir;
    this.#entries = openAnswerStore(dir, layer);
  }

  /**
   * Create the folder if needed and make sure it is writable; a cache that cannot be used is an error (exit 2), never
   * skipped. `layer`: the remote cache, read on a local miss and written with every entry.
   */
  static open(dir: string, layer?: AnswerLayer): ResponseCache {
    try {
      makeFolder(dir);
      fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK);
    } catch (e) {
      throw new OrchestratorError({ code: 'cache', message: `cannot use the response cache ${dir}: ${(e as Error).message} (choose another with --cache-dir or $ORCH_CACHE_DIR)` });
    }
    return new ResponseCache(dir, layer);
  }

  /** Look a key up. An entry whose content fails its integrity check or is not a valid entry is removed and reported. */
  async lookup(key: string): Promise<CacheLookup> {
    let found: Awaited<ReturnType<AnswerStore['read']>>;
    try {
      found = await this.#entries.read(key);
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { key?: string };
      const why =
        err.code === 'EINTEGRITY' || err.code === 'EBADSIZE'
          ? 'its content does not match its recorded SHA-512'
          : err.code === 'ENOENT'
            ? 'its content file is missing'
            : err.code === 'EBADINDEX'
              ? 'its index line does not match its own SHA-1 (edited, or cut short by a crash)'
            : `it cannot be read (${err.message})`;
      return { kind: 'corrupt', problem: await this.#discard(key, why), problems: [] };
    }
    const { problems } = found;
    if (found.entry === undefined) return { kind: 'miss', problems };
    let entry: StoredEntry;
    try {
      entry = JSON.parse(found.entry.data.toString('utf8')) as StoredEntry;
    } catch {
      return { kind: 'corrupt', problem: await this.#discard(key, 'its content is not JSON'), problems };
    }
    if (entry?.format !== CACHE_FORMAT || typeof entry.answer?.text !== 'string' || typeof entry.answer.finish_reason !== 'string') {
      return { kind: 'corrupt', problem: await this.#discard(key, 'its content is not a cache entry of this version'), problems };
    }
    return { kind: 'hit', answer: entry.answer, source: found.entry.source, problems };
  }

  /**
   * Store a complete answer. `redact` masks secrets in every string of a value: nothing reaches the cache folder (or
   * the remote cache) unmasked. Returns the problems of a remote write; a local write that fails throws.
   */
  async store(key: string, o: { parts: Record<string, unknown>; answer: CachedAnswer; metadata: Record<string, unknown>; redact: <T>(value: T) => T }): Promise<string[]> {
    const entry: StoredEntry = { format: CACHE_FORMAT, parts: o.parts, answer: o.answer };
    const body = JSON.stringify(o.redact(entry));
    const metadata = o.redact(o.metadata);
    return this.#entries.write(key, body, metadata);
  }

  /** Remove a bad entry (its content too, or a later store would keep the bad file) and say why it was bad. */
  async #discard(key: string, why: string): Promise<string> {
    const problem = `cache entry ${key.slice(0, 12)}… failed its integrity check: ${why}; treated as a miss`;
    try {
      const cacache = await loadCacache();
      const info = await cacache.get.info(this.dir, key);
      if (info) await cacache.rm.content(this.dir, info.integrity);
      await cacache.rm.entry(this.dir, key);
    } catch (e) {
      return `${problem} (and could not be removed: ${(e as Error).message})`;
    }
    return problem;
  }
}

/** What `orchestrator cache stats` reports. */
export interface CacheStats {
  dir: string;
  /** Prompt answers. */
  entries: number;
  /** Results of cached run steps (SPEC §11), counted apart from prompt answers. */
  step_entries: number;
  /** Files of step entries too big to travel inside them. */
  blobs: number;
  size_bytes: number;
  oldest: string | null;
  newest: string | null;
  /** Entries per `provider/model`. */
  by_model: Record<string, number>;
}

/** Count the entries of a cache folder (none when it does not exist yet). */
export async function cacheStats(dir: string): Promise<CacheStats> {
  let entries: Awaited<ReturnType<typeof import('cacache').ls>>;
  try {
    entries = await (await loadCacache()).ls(dir);
  } catch (e) {
    throw new OrchestratorError({ code: 'cache', message: `cannot read the response cache ${dir}: ${(e as Error).message}` });
  }
  const stats: CacheStats = { dir, entries: 0, step_entries: 0, blobs: 0, size_bytes: 0, oldest: null, newest: null, by_model: {} };
  let oldest = Infinity;
  let newest = -Infinity;
  for (const e of Object.values(entries)) {
    stats.size_bytes += e.size ?? 0;
    oldest = Math.min(oldest, e.time);
    newest = Math.max(newest, e.time);
    const meta = (e.metadata ?? {}) as { provider?: unknown; model?: unknown; kind?: unknown };
    if (meta.kind === 'step' || meta.kind === 'blob') {
      if (meta.kind === 'step') stats.step_entries++;
      else stats.blobs++;
      continue;
    }
    stats.entries++;
    const label = `${String(meta.provider ?? '?')}/${String(meta.model ?? '?')}`;
    stats.by_model[label] = (stats.by_model[label] ?? 0) + 1;
  }
  if (stats.entries + stats.step_entries + stats.blobs > 0) {
    stats.oldest = new Date(oldest).toISOString();
    stats.newest = new Date(newest).toISOString();
  }
  return stats;
}

/** Remove every entry; returns what there was. */
export async function clearCache(dir: string): Promise<CacheStats> {
  const before = await cacheStats(dir);
  try {
    await (await loadCacache()).rm.all(dir);
  } catch (e) {
    throw new OrchestratorError({ code: 'cache', message: `cannot clear the response cache ${dir}: ${(e as Error).message}` });
  }
  return before;
}
