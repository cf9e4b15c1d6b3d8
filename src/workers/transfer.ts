// Files between a worker and the coordinator go through the bucket, addressed by their SHA-256
// (`blobs/<sha256>`): the worker uploads what a step made (artifacts; a cached step's declared workspace
// outputs), the coordinator downloads each file into the run folder (or the spec's folder) and checks its hash
// before it records it. The same content is stored once.
import fs from 'node:fs';
import path from 'node:path';
import type { StepError } from '../errors.js';
import { OrchestratorError } from '../errors.js';
import { bucketProblem, openBucket, type Bucket } from '../remote/bucket.js';
import { writeLink } from '../store/atomic.js';
import { hashFile, listFiles, sha256 } from '../store/hash.js';
import type { RunDir } from '../store/run-dir.js';
import { underALink } from '../util/links.js';
import { makeFolder } from '../util/make-folder.js';
import type { SentFile } from './protocol.js';

/** The bucket key of a file's content. */
function blobKey(sha: string): string {
  return `blobs/${sha}`;
}

/** Files an attempt made, to send: where they are, their paths relative to there, and what they are (for messages). */
export interface SendOptions {
  root: string;
  paths: string[];
  bucket?: Bucket;
  /** `artifact(s)`, `declared workspace output(s)`. */
  what: string;
}

/** Upload files an attempt made; a step that made some on a run without a bucket fails, saying so. */
export async function sendFiles(o: SendOptions): Promise<{ files: SentFile[] } | { error: StepError }> {
  const files = o.paths.map((p) => describeFile(o.root, p));
  const carried = files.filter((f) => f.link === undefined).length; // a link travels as its target's text, in the message
  if (carried === 0) return { files };
  if (!o.bucket) return { error: { code: 'remote', message: `the step wrote ${carried} ${o.what} on a worker, and the run has no --bucket to bring them back` } };
  try {
    await putFiles(o.bucket, o.root, files);
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return { error: { code: 'remote', message: `${o.what} not sent: ${e.message}` } };
  }
  return { files };
}

/** The artifacts of the steps `needs` names, put in the bucket (if not there already) for a worker to restore, with their permission bits. */
export async function offerNeeds(bucket: Bucket, runDir: RunDir, needs: readonly string[]): Promise<SentFile[]> {
  const files = needs.flatMap((id) => listFiles(runDir.root, runDir.artifactsDir(id), { links: true }).map((p) => describeFile(runDir.root, p)));
  await putFiles(bucket, runDir.root, files);
  return files;
}

/** A file to send: its hash, size and mode; a symbolic link (the globs of declared outputs find links to files), where it points. */
function describeFile(root: string, rel: string): SentFile {
  const st = fs.lstatSync(path.join(root, rel));
  if (st.isSymbolicLink()) {
    const link = fs.readlinkSync(path.join(root, rel));
    return { path: rel, sha256: sha256(link), size_bytes: 0, mode: st.mode & 0o777, link };
  }
  return { ...hashFile(root, rel), mode: st.mode & 0o777 };
}

/** Upload each file unless its content is there already (a link has none: it travels in the message). */
async function putFiles(bucket: Bucket, root: string, files: readonly SentFile[]): Promise<void> {
  for (const f of files) if (f.link === undefined && !(await bucket.has(blobKey(f.sha256)))) await bucket.upload(blobKey(f.sha256), path.join(root, f.path));
}

/**
 * Download files under `root` (the coordinator's run folder or spec folder, a worker's scratch run folder), each
 * into a temp file beside its place and checked against its SHA-256; only when every one is whole are they moved
 * into place. A path that would leave `root` is refused.
 */
export async function receiveFiles(bucket: Bucket | undefined, root: string, files: readonly SentFile[]): Promise<StepError | undefined> {
  const temps: [SentFile, string, string][] = [];
  const links: [string, string][] = [];
  try {
    const through = underALink(files);
    if (through) return { code: 'remote', message: `a worker sent ${through.path}, which would be written through the link ${through.link}: refused` };
    for (const f of files) {
      const target = path.resolve(root, f.path);
      if (!target.startsWith(root + path.sep)) return { code: 'remote', message: `a worker sent ${f.path}, which would be written outside ${root}: refused` };
      if (f.link !== undefined) {
        if (sha256(f.link) !== f.sha256) return { code: 'remote', message: `the link ${f.path} does not match the SHA-256 it was sent with: not taken` };
        links.push([target, f.link]);
        continue;
      }
      if (!bucket) return { code: 'remote', message: `a worker sent ${f.path}, and this run has no bucket to bring it from` };
      makeFolder(path.dirname(target));
      const temp = `${target}.orch-receive-${process.pid}`;
      temps.push([f, temp, target]);
      try {
        if (!(await bucket.download(blobKey(f.sha256), temp))) return { code: 'remote', message: `${f.path} is missing from ${bucket.url}` };
      } catch (e) {
        if (!(e instanceof OrchestratorError)) throw e;
        return { code: 'remote', message: `${f.path} not received: ${e.message}` };
      }
      const got = hashFile(path.dirname(temp), path.basename(temp));
      if (got.sha256 !== f.sha256) return { code: 'remote', message: `${f.path} from ${bucket.url} has SHA-256 ${got.sha256}, not the ${f.sha256} it was sent as: not taken` };
    }
    for (const [f, temp, target] of temps) {
      if (f.mode !== undefined) fs.chmodSync(temp, f.mode);
      fs.renameSync(temp, target);
    }
    temps.length = 0;
    for (const [target, link] of links) writeLink(target, link);
    return undefined;
  } finally {
    for (const [, temp] of temps) fs.rmSync(temp, { force: true });
  }
}

/** Read by the reachability check: that it is absent is the expected answer. */
export const BUCKET_PROBE_KEY = 'blobs/reachability-check';

/**
 * Open the run's bucket when it has one, and check that it answers: a bucket the coordinator cannot use (no
 * credentials here, no such bucket) is an error before any run folder, not a step that fails once a worker has
 * run it and its files cannot be fetched.
 */
export async function openRunBucket(url: string | undefined): Promise<Bucket | undefined> {
  if (!url) return undefined;
  const bucket = await openBucket({ url });
  const problem = await bucketProblem(bucket, BUCKET_PROBE_KEY);
  if (problem === undefined) return bucket;
  bucket.close();
  throw new OrchestratorError({ code: 'remote', message: `the run's bucket ${url} cannot be used: ${problem}` });
}

/** A worker's buckets by URL, each opened once (the SDK client is reused). */
export class BucketCache {
  readonly #open = new Map<string, Promise<Bucket>>();
  get(url: string | undefined): Promise<Bucket | undefined> {
    if (!url) return Promise.resolve(undefined);
    let b = this.#open.get(url);
    if (!b) this.#open.set(url, (b = openBucket({ url })));
    return b;
  }
  async close(): Promise<void> {
    for (const b of this.#open.values()) (await b.catch(() => undefined))?.close();
  }
}
