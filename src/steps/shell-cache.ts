import fs from 'node:fs';
import path from 'node:path';
import type { FileRecord } from '../events/types.js';
import type { JobSpec, StepSpec } from '../specfile/model.js';
import { writeLink } from '../store/atomic.js';
import { BlobError, openEntryStore, type EntryStore } from '../store/entry-store.js';
import { hashFile, listFiles, sha256 } from '../store/hash.js';
import { InputHashes, matchFiles } from '../store/input-hashes.js';
import type { Redactor } from '../store/redact.js';
import type { RunDir } from '../store/run-dir.js';
import { underALink } from '../util/links.js';
import { makeFolder } from '../util/make-folder.js';
import type { ContractCheck } from './contract.js';
import { GlobWarnings } from './glob-warnings.js';
import { describeInputChange, hashInputs, STEP_CACHE_FORMAT, stepKey, type KeyScope, type RenderedShell, type StepKey } from './cache-key.js';
import { describeRanElsewhere, type InputsElsewhere } from './ran-elsewhere.js';
import type { AttemptResult } from './types.js';

/** Files up to this size travel inside the entry (one read on a hit); larger ones are blobs, streamed. */
const INLINE_BYTES = 16 * 1024;

/** One file of an entry: where it goes, what it must hash to, and its bytes (inline) or a blob's name. */
interface FileRef {
  path: string;
  sha256: string;
  size: number;
  mode: number;
  /** Base64, for small files; else the bytes are the blob named by sha256. */
  data?: string;
  /** A symbolic link (a declared workspace output): where it points, as readlink says; sha256 is that text's. No bytes. */
  link?: string;
}

/** What a step entry holds (SPEC §11). */
interface StepEntry {
  format: number;
  parts: Record<string, unknown>;
  stored_at: string;
  job_id: string;
  result: { exit_code: number | null; text: string; text_truncated?: boolean; outputs: Record<string, unknown> };
  log: FileRef | null;
  artifacts: FileRef[];
  workspace: FileRef[];
}

/** What the step cache of one job needs. */
export interface StepCacheOptions {
  store: EntryStore;
  scope: KeyScope;
  redactor: Redactor;
  /** Read nothing (--no-cache); results are still stored. */
  noCache: boolean;
  /** Steps (or fanned steps) run whatever the cache holds: --force; `forceAll`: every one. */
  force: Set<string>;
  forceAll: boolean;
  jobId: string;
  warn: (message: string) => void;
  /** outputs_schema checks: a result that breaks its step's is a failure (SPEC §3), and never stored. */
  checkContract?: ContractCheck;
  /** The cache outputs of each step's needs: a hit never puts back a stale copy of a file one of them wrote. */
}

/** Open the step cache of a job: its store in the cache folder, its input hashes in the runs folder's history. */
export function openStepCache(o: Omit<StepCacheOptions, 'store' | 'scope'> & { cacheDir: string; runsDir: string; spec: JobSpec; layer?: (local: EntryStore, warn: (message: string, key?: string) => void) => EntryStore }): StepCache {
  const specDir = path.dirname(o.spec.path);
  const scope: KeyScope = { specDir, specEnv: o.spec.env, env: process.env, exclude: [o.runsDir, o.cacheDir], hashes: InputHashes.load(o.runsDir, o.spec.path) };
  const { cacheDir: _c, runsDir: _r, spec: _s, layer, ...rest } = o;
  const local = openEntryStore(o.cacheDir);
  // What the remote layer says of an entry reaches the attempt of that entry's key too (its log, its event).
  let cache: StepCache | undefined;
  const warn = (message: string, key?: string) => (cache ? cache.warnAbout(message, key) : rest.warn(message));
  cache = new StepCache({ ...rest, store: layer ? layer(local, warn) : local, scope });
  return cache;
}

/** The content-addressed cache of run steps (SPEC §11): restore a stored result, or store a fresh one. */
export class StepCache {
  /** The attempts under way, by their key: the step, and the cache's warnings about its entry so far. */
  readonly #attempts = new Map<string, { step: string; warnings: string[] }>();

  /** The warnings of globs that name a folder or match no file: each once per run, however many attempts or instances meet it. */
  readonly #globs: GlobWarnings;

  /** The workspace files steps of this job stored or restored, by path (relative to the spec's folder), and which step did. */
  readonly #placed = new Map<string, string>();

  constructor(readonly o: StepCacheOptions) {
    this.#globs = new GlobWarnings({ specDir: o.scope.specDir, exclude: o.scope.exclude, warn: o.warn });
  }

  /** Remember the input hashes learnt for the next run (the runs folder's history); count the glob warnings not given one by one. */
  close(): void {
    this.#globs.finish();
    this.o.scope.hashes.save();
  }

  /**
   * Collect what the cache says of `key`'s entry while `step`'s attempt uses it: `done` gives those warnings (the
   * attempt puts them in its log and its event's cache_warnings); each is also a warning of the job, as before.
   */
  collect(key: string, step: string): { done: () => string[] } {
    const attempt = { step, warnings: [] as string[] };
    this.#attempts.set(key, attempt);
    return {
      done: () => {
        if (this.#attempts.get(key) === attempt) this.#attempts.delete(key);
        return attempt.warnings;
      },
    };
  }

  /** A warning about an entry: on stderr (named after its step when an attempt uses it), and to that attempt. */
  warnAbout(message: string, key?: string): void {
    const attempt = key === undefined ? undefined : this.#attempts.get(key);
    const prefix = `step "${attempt?.step}": `;
    this.o.warn(attempt === undefined || message.startsWith(prefix) ? message : prefix + message);
    attempt?.warnings.push(message.startsWith(prefix) ? message.slice(prefix.length) : message);
  }

  /** The key of a rendered run step, with its parts and its input files' hashes. */
  keyOf(r: RenderedShell): StepKey {
    this.#globs.folders(r.step, ['inputs', 'outputs']);
    const k = stepKey(r, this.o.scope);
    this.#globs.empty(r.step, 'inputs', Object.keys(k.inputs));
    return k;
  }

  /** Whether this attempt may be answered from the cache (not --no-cache, --force …). */
  mayRead(step: StepSpec): boolean {
    return !this.o.noCache && !this.o.forceAll && !this.o.force.has(step.id) && !(step.instance && this.o.force.has(step.instance.of));
  }

  /** The stored result of `k`, restored into the run folder and the workspace; undefined on a miss (a bad entry is a miss, with a warning). */
  async restore(step: StepSpec, k: StepKey, runDir: RunDir): Promise<AttemptResult | undefined> {
    const found = await this.o.store.getEntry(k.key);
    if (found.kind === 'miss') return undefined;
    if (found.kind !== 'hit' || !isStepEntry(found.entry)) {
      this.warnAbout(`step "${step.id}": ${found.kind === 'corrupt' ? found.problem : notThisVersion(k.key)}; treated as a miss, the step runs`, k.key);
      return undefined;
    }
    const entry = found.entry;
    const overwrites = this.#overwritesPlaced(step, entry.workspace);
    if (overwrites) {
      this.warnAbout(`step "${step.id}": ${overwrites}: treated as a miss, the step runs`, k.key);
      return undefined;
    }
    const note = Buffer.from(`[orchestrator] restored from the cache: key ${k.key}, stored by job ${entry.job_id} at ${entry.stored_at}; no process ran\n`);
    const inlineLog = entry.log?.data !== undefined ? entry.log : undefined;
    const problem = await this.#restoreFiles(() => {
      // A small log is written below with the note, in one write; a big one is a blob, restored like any file.
      const targets: [FileRef, string][] = [];
      if (entry.log && !inlineLog) targets.push([entry.log, runDir.logPath(step.id)]);
      for (const f of entry.artifacts) targets.push([f, inside(runDir.artifactsDir(step.id), f.path)]);
      notThroughLinks(entry.workspace);
      for (const f of entry.workspace) {
        if (this.#isInPlace(f)) continue;
        const dest = inside(this.o.scope.specDir, f.path);
        const blocked = blockedPlace(this.o.scope.specDir, f.path);
        if (blocked) throw new BlobError(blocked);
        targets.push([f, dest]);
      }
      return targets;
    }, inlineLog);
    if (problem) {
      this.warnAbout(`step "${step.id}": cache entry ${k.key.slice(0, 12)}…: ${problem}; treated as a miss, the step runs`, k.key);
      return undefined;
    }
    // A log written whole here is hashed from what was written: the run's record needs no second read of it.
    const written = (log: Buffer): FileRecord => ({ path: `logs/${step.id}.log`, sha256: sha256(log), size_bytes: log.length });
    let logFile: FileRecord | undefined;
    if (inlineLog) {
      const log = Buffer.concat([Buffer.from(inlineLog.data!, 'base64'), note]);
      fs.writeFileSync(runDir.logPath(step.id), log);
      logFile = written(log);
    } else if (!entry.log && writeNew(runDir.logPath(step.id), note)) logFile = written(note); // the step printed nothing
    else fs.appendFileSync(runDir.logPath(step.id), note); // after a big log's blob, or an earlier attempt's log
    await this.o.store.touchEntry(k.key);
    this.#notePlaced(step, entry.workspace.map((f) => f.path));
    const r = entry.result;
    return { status: 'succeeded', exitCode: r.exit_code, text: r.text, ...(r.text_truncated ? { textTruncated: true } : {}), outputs: r.outputs, retryable: false, cached: true, cacheSource: found.source, cacheKey: k.key, cacheKeyParts: k.parts, ...(logFile ? { logFile } : {}) };
  }

  /**
   * Why a hit on `entry` (stored under `key`) would be a miss, told without reading its files, for run --dry-run: an
   * entry of another version, a blob that is missing or of another size, or a workspace place restore refuses (a
   * file where the entry needs a folder, a folder where it has a file, a link among its folders); a workspace output
   * already in place needs neither. Undefined when restore would go ahead as far as that tells; a blob's bytes are
   * checked only by restore.
   */
  async problemOf(key: string, entry: unknown): Promise<string | undefined> {
    if (!isStepEntry(entry)) return notThisVersion(key);
    const problem = async (f: FileRef): Promise<string | undefined> => (f.data !== undefined || f.link !== undefined ? undefined : this.o.store.blobProblem(f.sha256, f.size));
    try {
      for (const f of [...(entry.log ? [entry.log] : []), ...entry.artifacts]) {
        const p = await problem(f);
        if (p) return `cache entry ${key.slice(0, 12)}…: ${p}`;
      }
      notThroughLinks(entry.workspace);
      for (const f of entry.workspace) {
        // The place first (a few lstats); whether the output is in place (it may hash it) only when something is amiss.
        inside(this.o.scope.specDir, f.path);
        const p = blockedPlace(this.o.scope.specDir, f.path) ?? (await problem(f));
        if (p && !this.#isInPlace(f)) return `cache entry ${key.slice(0, 12)}…: ${p}`;
      }
    } catch (e) {
      if (e instanceof BlobError) return `cache entry ${key.slice(0, 12)}…: ${e.message}`;
      throw e;
    }
    return undefined;
  }

  /**
   * Store a succeeded attempt, unless its inputs hash differently now than when its key was made, or (`elsewhere`:
   * it ran on a worker) what it read there differs from the key's or changed while it ran; then a warning says what.
   * Nothing here fails the step: a store that cannot be written is a warning.
   */
  async save(o: { step: StepSpec; key: StepKey; result: AttemptResult; runDir: RunDir; elsewhere?: InputsElsewhere }): Promise<void> {
    const { step, key, runDir } = o;
    const after = hashInputs(step.shellCache!.inputs, this.o.scope, { fresh: true });
    const changed = (o.elsewhere && describeRanElsewhere(key, o.elsewhere)) ?? describeInputChange(key.inputs, after);
    if (changed) {
      this.warnAbout(`step "${step.id}": ${changed}: its result is not stored in the cache`, key.key);
      return;
    }
    this.#globs.folders(step, ['outputs']);
    try {
      const specDir = this.o.scope.specDir;
      const workspace = matchFiles(specDir, step.shellCache!.outputs, this.o.scope.exclude);
      this.#notePlaced(step, workspace); // written by the step, stored or not
      this.#globs.empty(step, 'outputs', workspace);
      // A declared output that is a link to a file is kept as that link (node_modules/.bin/tsc must stay a link to
      // ../typescript/bin/tsc, not become a copy that cannot find ../lib). A link to a folder, which the globs
      // reach into, or a link in $ORCH_ARTIFACTS (the run folder holds regular files) is not kept: such a result is
      // not stored, and the next run runs the step.
      const link = linkedDirAmong(specDir, workspace) ?? linkUnder(runDir.artifactsDir(step.id), 'artifacts/');
      if (link) {
        this.warnAbout(`step "${step.id}": ${link} is a symbolic link${link.startsWith('artifacts/') ? ' in $ORCH_ARTIFACTS' : ' to a folder'}, which the step cache does not keep: its result is not stored in the cache`, key.key);
        return;
      }
      const blobs: string[] = [];
      const ref = async (root: string, rel: string): Promise<FileRef> => {
        const file = path.join(root, rel);
        const st = fs.lstatSync(file);
        const mode = st.mode & 0o777;
        if (st.isSymbolicLink()) {
          const target = fs.readlinkSync(file);
          return { path: rel, sha256: sha256(target), size: 0, mode, link: target };
        }
        if (st.size <= INLINE_BYTES) {
          const data = fs.readFileSync(file);
          return { path: rel, sha256: sha256(data), size: data.length, mode, data: data.toString('base64') };
        }
        // A big file is hashed and stored a chunk at a time, never read whole.
        const hashed = hashFile(root, rel);
        const f: FileRef = { path: rel, sha256: hashed.sha256, size: hashed.size_bytes, mode };
        await this.o.store.writeBlob(f.sha256, file);
        blobs.push(f.sha256);
        return f;
      };
      const logPath = runDir.logPath(step.id);
      const entry: StepEntry = {
        format: STEP_CACHE_FORMAT,
        parts: key.parts,
        stored_at: new Date().toISOString(),
        job_id: this.o.jobId,
        result: this.o.redactor.redactValue({ exit_code: o.result.exitCode, text: o.result.text, ...(o.result.textTruncated ? { text_truncated: true } : {}), outputs: o.result.outputs }),
        log: fs.existsSync(logPath) ? await ref(path.dirname(logPath), path.basename(logPath)) : null,
        artifacts: await refsOf(runDir.artifactsDir(step.id), listFiles(runDir.artifactsDir(step.id)), ref),
        workspace: await refsOf(specDir, workspace, ref),
      };
      await this.o.store.putEntry(key.key, { entry: { ...entry, parts: this.o.redactor.redactValue(entry.parts) }, blobs, metadata: { step: step.id, job_id: this.o.jobId } });
    } catch (e) {
      this.warnAbout(`step "${step.id}": could not store its result in the cache: ${(e as Error).message}`, key.key);
    }
  }

  /**
   * Why restoring `refs` would undo another step's work, or undefined: one of them is a workspace file that another
   * step of this job left in place (stored with its result, or restored by its hit) and the workspace's copy differs
   * from the entry's (`compile` wrote dist/app.js anew; `package`'s dist/** entry holds the old one). Such a file is
   * kept in the entry (the step may rewrite it, as a minifier does in place, and its hit must then put its own
   * version back) and checked here: a map lookup a file.
   */
  #overwritesPlaced(step: StepSpec, refs: readonly FileRef[]): string | undefined {
    for (const f of refs) {
      const owner = this.#placed.get(f.path);
      if (owner === undefined || owner === step.id || this.#isInPlace(f)) continue;
      return `its entry would put back ${f.path}, which step "${owner}" left there in this run and which differs now`;
    }
    return undefined;
  }

  /** Note the workspace files a step left in place (the first step to do so keeps them). */
  #notePlaced(step: StepSpec, paths: Iterable<string>): void {
    for (const p of paths) if (!this.#placed.has(p)) this.#placed.set(p, step.id);
  }

  /**
   * Whether a workspace output is there already as recorded: a file with its bytes (by the remembered hashes) and
   * mode, or a link with its target's text. Left as it is. By lstat: a link is never a file already there (one to a
   * file outside with the same bytes would stay a link, the output still hanging on that file); nor is a folder or a FIFO.
   */
  #isInPlace(f: FileRef): boolean {
    try {
      const root = this.o.scope.specDir;
      const file = inside(root, f.path);
      const st = fs.lstatSync(file);
      if (f.link !== undefined) return st.isSymbolicLink() && fs.readlinkSync(file) === f.link;
      return st.isFile() && (st.mode & 0o777) === f.mode && this.o.scope.hashes.hash(root, [f.path])[f.path] === f.sha256;
    } catch (e) {
      // ENOTDIR: a file where the entry needs a folder (out/a a file, the entry's out/a/f.txt): not in place, and
      // blockedPlace then says so (a miss with a warning), as it does of a folder where the entry has a file.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || e instanceof BlobError) return false;
      throw e;
    }
  }

  /**
   * Check every file before any is written: inline bytes in memory, blobs streamed into a temp file beside their
   * place; then write the inline ones and move the blobs into place. All or nothing, and no rename for small files
   * (a rename costs more than a small write on many file systems).
   */
  async #restoreFiles(targetsOf: () => [FileRef, string][], alsoCheck?: FileRef): Promise<string | undefined> {
    const temps: string[] = [];
    try {
      if (alsoCheck && sha256(Buffer.from(alsoCheck.data!, 'base64')) !== alsoCheck.sha256) return `${alsoCheck.path} does not match its recorded SHA-256`;
      const targets = targetsOf();
      const ready: (Buffer | string | { link: string })[] = [];
      for (const [f, dest] of targets) {
        if (f.link !== undefined) {
          if (sha256(f.link) !== f.sha256) return `${f.path} does not match its recorded SHA-256`;
          ready.push({ link: f.link });
        } else if (f.data !== undefined) {
          const data = Buffer.from(f.data, 'base64');
          if (sha256(data) !== f.sha256) return `${f.path} does not match its recorded SHA-256`;
          ready.push(data);
        } else {
          makeFolder(path.dirname(dest));
          const temp = `${dest}.orch-restore-${process.pid}`;
          temps.push(temp);
          await this.o.store.readBlob(f.sha256, temp);
          ready.push(temp);
        }
      }
      targets.forEach(([f, dest], i) => {
        const r = ready[i]!;
        if (typeof r === 'string') {
          fs.chmodSync(r, f.mode);
          fs.renameSync(r, dest);
          return;
        }
        if (!Buffer.isBuffer(r)) return writeLink(dest, r.link);
        writeRestored(dest, r, f.mode);
      });
      temps.length = 0;
      return undefined;
    } catch (e) {
      if (e instanceof BlobError) return e.message;
      throw e;
    } finally {
      for (const t of temps) fs.rmSync(t, { force: true });
    }
  }
}

/** Whether a stored entry is one this version reads (anything else is a miss, with a warning). */
function isStepEntry(e: unknown): e is StepEntry {
  const entry = e as StepEntry | null | undefined;
  return !!entry && entry.format === STEP_CACHE_FORMAT && typeof entry.result?.text === 'string' && Array.isArray(entry.artifacts) && Array.isArray(entry.workspace);
}

function notThisVersion(key: string): string {
  return `cache entry ${key.slice(0, 12)}… is not an entry of this version`;
}

/** The first linked folder among the folders that `rels` (files under `root`, found through links) lie in. */
function linkedDirAmong(root: string, rels: string[]): string | undefined {
  const linkOfDir = new Map<string, string | undefined>();
  const linkedDir = (rel: string): string | undefined => {
    if (rel === '.' || rel === '') return undefined;
    if (!linkOfDir.has(rel)) linkOfDir.set(rel, fs.lstatSync(path.join(root, rel)).isSymbolicLink() ? rel : linkedDir(path.dirname(rel)));
    return linkOfDir.get(rel);
  };
  for (const rel of rels) {
    const link = linkedDir(path.dirname(rel));
    if (link) return link;
  }
  return undefined;
}

/** An entry's workspace files never lie under one of its links (save keeps no linked folder): a doctored one is refused. */
function notThroughLinks(refs: readonly FileRef[]): void {
  const through = underALink(refs);
  if (through) throw new BlobError(`${through.path} would be restored through the link ${through.link}`);
}

/** The first symbolic link under `dir` (listFiles passes over links), as `prefix` + its path; undefined when none. */
function linkUnder(dir: string, prefix: string, rel = ''): string | undefined {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isSymbolicLink()) return prefix + r;
    if (e.isDirectory()) {
      const found = linkUnder(dir, prefix, r);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Why a workspace file cannot be restored at `rel` (under `root`) as the workspace stands, or undefined: a link among
 * its folders (a workspace link may lead outside the spec's folder: nothing is written through one), a file where
 * it needs a folder, a folder where it goes. A link in its own place is replaced, as a file there would be.
 */
function blockedPlace(root: string, rel: string): string | undefined {
  const parts = rel.split('/');
  let p = root;
  for (const [i, part] of parts.entries()) {
    p = path.join(p, part);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return undefined; // this folder and those below it are made
    const shown = parts.slice(0, i + 1).join('/');
    if (i === parts.length - 1) return st.isDirectory() ? `${shown} is a folder in the workspace, where the entry has a file` : undefined;
    if (st.isSymbolicLink()) return `${shown} is a symbolic link in the workspace: nothing is restored through one (${rel})`;
    if (!st.isDirectory()) return `${shown} is a file in the workspace, where the entry needs a folder (for ${rel})`;
  }
  return undefined;
}

/** Write a file's bytes and mode, making its folder when it is missing; a link in its place is replaced, not written through. */
function writeRestored(dest: string, data: Buffer, mode: number): void {
  if (fs.lstatSync(dest, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(dest);
  try {
    fs.writeFileSync(dest, data, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    makeFolder(path.dirname(dest));
    fs.writeFileSync(dest, data, { mode });
  }
  // An existing file keeps its mode through writeFileSync: set it, only when it differs.
  if ((fs.statSync(dest).mode & 0o777) !== mode) fs.chmodSync(dest, mode);
}

async function refsOf(root: string, rels: string[], ref: (root: string, rel: string) => Promise<FileRef>): Promise<FileRef[]> {
  const out: FileRef[] = [];
  for (const rel of rels) out.push(await ref(root, rel));
  return out;
}

/** `rel` under `root`; a path that would leave it (a doctored entry) is refused. */
function inside(root: string, rel: string): string {
  const p = path.resolve(root, rel);
  if (!p.startsWith(root + path.sep)) throw new BlobError(`${rel} would be restored outside ${root}`);
  return p;
}

/** Create `file` with `data`; false (nothing written) when it exists already. */
function writeNew(file: string, data: Buffer): boolean {
  try {
    fs.writeFileSync(file, data, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}
