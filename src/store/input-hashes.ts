import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { globSync } from 'tinyglobby';
import { GLOB_CHARS } from '../specfile/cache-globs.js';
import { writeAtomic } from './atomic.js';
import { hashFile } from './hash.js';
import { historyFile } from './run-dir.js';
import { makeFolder } from '../util/make-folder.js';

/** One input file as last hashed: trusted again while its stat is the same (as git's index does). */
interface StatEntry {
  size: number;
  mtime_ns: string;
  /**
   * Any tool can set an mtime back (`cp -p`, `rsync -t`, an archive), so a file replaced by another of the same size
   * and mtime would keep its old hash; no tool can set a ctime back. Absent in entries written before it was kept:
   * such a file is hashed again.
   */
  ctime_ns?: string;
  ino: string;
  sha256: string;
  /** When it was hashed: a file changed in the same moment it was hashed ("racily clean") is hashed again. */
  hashed_ms: number;
}

/** Changes closer than this to the moment a file was hashed may not show in its stat: such files are re-hashed. */
const RACY_MS = 2000;

/**
 * The hashes of a spec's input files, remembered in the runs folder's history by (path, size, mtime, ctime, inode):
 * a no-op run re-hashes only files whose stat changed. Big files are hashed a chunk at a time.
 */
export class InputHashes {
  readonly #file: string;
  readonly #entries: Record<string, StatEntry>;
  #changed = false;

  private constructor(file: string, entries: Record<string, StatEntry>) {
    this.#file = file;
    this.#entries = entries;
  }

  /** The remembered hashes of a spec's inputs (none yet, or an unreadable file: none). */
  static load(runsDir: string, specPath: string): InputHashes {
    const key = createHash('sha256').update(specPath).digest('hex').slice(0, 24);
    const file = historyFile(runsDir, `${key}.inputs.json`);
    let entries: Record<string, StatEntry> = {};
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { files?: Record<string, StatEntry> };
      if (parsed.files && typeof parsed.files === 'object') entries = parsed.files;
    } catch {
      // none yet, or torn: every input is hashed, and the file is written anew at the end of the job
    }
    return new InputHashes(file, entries);
  }

  /**
   * SHA-256 of each file (paths relative to `root`), by path. With `fresh`, every file is read (the check after a
   * step ran: an edit within the stat's resolution must not slip through).
   */
  hash(root: string, rels: string[], o: { fresh?: boolean } = {}): Record<string, string> {
    const out: Record<string, string> = {};
    const now = Date.now();
    for (const rel of rels) {
      const abs = path.join(root, rel);
      const st = fs.statSync(abs, { bigint: true });
      const known = this.#entries[abs];
      const mtimeNs = st.mtimeNs.toString();
      const ctimeNs = st.ctimeNs.toString();
      const ino = st.ino.toString();
      // The later of the two: a file whose mtime was set back right after a change still changed just now.
      const changedMs = Number((st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs) / 1_000_000n);
      if (!o.fresh && known && known.size === Number(st.size) && known.mtime_ns === mtimeNs && known.ctime_ns === ctimeNs && known.ino === ino && known.hashed_ms - changedMs > RACY_MS) {
        out[rel] = known.sha256;
        continue;
      }
      const sha = hashFile(root, rel).sha256;
      out[rel] = sha;
      this.#entries[abs] = { size: Number(st.size), mtime_ns: mtimeNs, ctime_ns: ctimeNs, ino, sha256: sha, hashed_ms: now };
      this.#changed = true;
    }
    return out;
  }

  /** Write what was learnt for the next run (atomic replace; with concurrent jobs the last one wins). */
  save(): void {
    if (!this.#changed) return;
    makeFolder(path.dirname(this.#file));
    writeAtomic(this.#file, JSON.stringify({ files: this.#entries }));
    this.#changed = false;
  }
}

/**
 * The files matching a step's globs (relative to `root`; `!pattern` excludes), sorted, with forward slashes.
 * Files under `exclude` (the runs folder, the cache folder) never count: they change with every run.
 */
export function matchFiles(root: string, patterns: string[], exclude: string[]): string[] {
  if (patterns.length === 0) return [];
  // Plain paths (no glob characters, no excludes) need no crawl of their folders: a stat each.
  if (patterns.every((p) => !GLOB_CHARS.test(p))) return matchPlainFiles(root, patterns, exclude);
  // Crawled from the folder the patterns share (`in/s12/**` from in/s12), not from the spec's folder: a step's
  // globs then cost what its own folder holds, not what every other step's folders hold beside it.
  const base = sharedBase(patterns);
  const cwd = base === '' ? root : path.join(root, base);
  if (base !== '' && !fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) return [];
  const ignore = exclude.map((d) => path.relative(cwd, d)).filter((r) => r !== '' && !r.startsWith('..') && !path.isAbsolute(r)).map((r) => `${r.split(path.sep).join('/')}/**`);
  const found = globSync(base === '' ? patterns : patterns.map((p) => underBase(p, base)), { cwd, dot: true, onlyFiles: true, ignore, expandDirectories: false });
  return (base === '' ? found : found.map((f) => `${base}/${f}`)).sort();
}

/**
 * The folder every pattern starts in: the segments before the first with a glob character (never a pattern's
 * last segment), shared by all; '' when they share none. An exclude that starts with `**` matches at any depth
 * wherever the crawl starts, so it does not hold the folder back.
 */
function sharedBase(patterns: string[]): string {
  let shared: string[] | undefined;
  for (const p of patterns) {
    if (p.startsWith('!**')) continue;
    const segments = (p.startsWith('!') ? p.slice(1) : p).split('/').slice(0, -1);
    const fixed: string[] = [];
    for (const seg of segments) {
      if (seg === '' || seg === '.' || seg === '..' || GLOB_CHARS.test(seg)) break;
      fixed.push(seg);
    }
    let n = 0;
    if (shared === undefined) n = fixed.length;
    else while (n < shared.length && n < fixed.length && shared[n] === fixed[n]) n++;
    shared = (shared ?? fixed).slice(0, n);
  }
  return (shared ?? []).join('/');
}

/** A pattern relative to `base` (see sharedBase): its first segments dropped; an exclude starting with `**` unchanged. */
function underBase(pattern: string, base: string): string {
  if (pattern.startsWith('!**')) return pattern;
  const neg = pattern.startsWith('!');
  return (neg ? '!' : '') + (neg ? pattern.slice(1) : pattern).slice(base.length + 1);
}

/**
 * The glob that covers the files of the folder `glob` names (`docs` → `docs/**`), or undefined when `glob` is a
 * pattern or names no folder. Globs match files only: a folder's name matches nothing, silently.
 */
export function folderGlobFor(root: string, glob: string): string | undefined {
  if (GLOB_CHARS.test(glob) || !fs.statSync(path.resolve(root, glob), { throwIfNoEntry: false })?.isDirectory()) return undefined;
  const dir = glob.length > 1 ? glob.replace(/\/+$/, '') : glob;
  return dir === '' || dir === '.' ? '**' : dir === '/' ? '/**' : `${dir}/**`;
}

function matchPlainFiles(root: string, rels: string[], exclude: string[]): string[] {
  const out = new Set<string>();
  for (const rel of rels) {
    const abs = path.resolve(root, rel);
    const inRoot = path.relative(root, abs);
    if (inRoot === '' || inRoot.startsWith('..') || path.isAbsolute(inRoot)) continue; // as the globs: inside the spec's folder only
    if (exclude.some((d) => abs === d || abs.startsWith(d + path.sep))) continue;
    if (fs.statSync(abs, { throwIfNoEntry: false })?.isFile()) out.add(inRoot.split(path.sep).join('/'));
  }
  return [...out].sort();
}
