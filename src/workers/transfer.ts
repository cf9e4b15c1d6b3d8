// Files between a worker and the coordinator go through the bucket, addressed by their SHA-256
// (`blobs/<sha256>`): the worker uploads what a step made, the coordinator downloads each file into the run
// folder and checks its hash before it records it. The same content is stored once.
import fs from 'node:fs';
import path from 'node:path';
import type { StepError } from '../errors.js';
import { OrchestratorError } from '../errors.js';
import { openBucket, type Bucket } from '../remote/bucket.js';
import { hashFile, listFiles } from '../store/hash.js';
import type { RunDir } from '../store/run-dir.js';
import type { SentFile } from './protocol.js';

/** The bucket key of a file's content. */
function blobKey(sha: string): string {
  return `blobs/${sha}`;
}

/** Where artifacts go. */
export interface SendOptions {
  runDir: RunDir;
  stepId: string;
  bucket?: Bucket;
}

/** Upload the attempt's artifacts; a step that made some on a run without a bucket fails, saying so. */
export async function sendArtifacts(o: SendOptions): Promise<{ files: SentFile[] } | { error: StepError }> {
  const files = listFiles(o.runDir.root, o.runDir.artifactsDir(o.stepId)).map((p) => hashFile(o.runDir.root, p));
  if (files.length === 0) return { files };
  if (!o.bucket) return { error: { code: 'remote', message: `the step wrote ${files.length} artifact(s) on a worker, and the run has no --bucket to bring them back` } };
  try {
    await putFiles(o.bucket, o.runDir, files);
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return { error: { code: 'remote', message: `artifacts not sent: ${e.message}` } };
  }
  return { files };
}

/** The artifacts of the steps `needs` names, put in the bucket (if not there already) for a worker to restore. */
export async function offerNeeds(bucket: Bucket, runDir: RunDir, needs: readonly string[]): Promise<SentFile[]> {
  const files = needs.flatMap((id) => listFiles(runDir.root, runDir.artifactsDir(id)).map((p) => hashFile(runDir.root, p)));
  await putFiles(bucket, runDir, files);
  return files;
}

/** Upload each file unless its content is there already. */
async function putFiles(bucket: Bucket, runDir: RunDir, files: readonly SentFile[]): Promise<void> {
  for (const f of files) if (!(await bucket.has(blobKey(f.sha256)))) await bucket.upload(blobKey(f.sha256), path.join(runDir.root, f.path));
}

/** Download files into a run folder (the coordinator's, or a worker's scratch one), each checked against its SHA-256. */
export async function receiveFiles(bucket: Bucket, runDir: RunDir, files: readonly SentFile[]): Promise<StepError | undefined> {
  for (const f of files) {
    const target = path.join(runDir.root, f.path);
    if (!target.startsWith(runDir.root + path.sep)) return { code: 'remote', message: `a worker sent a file outside the run folder: ${f.path}` };
    fs.mkdirSync(path.dirname(target), { recursive: true });
    try {
      if (!(await bucket.download(blobKey(f.sha256), target))) return { code: 'remote', message: `${f.path} is missing from ${bucket.url}` };
    } catch (e) {
      if (!(e instanceof OrchestratorError)) throw e;
      return { code: 'remote', message: `${f.path} not received: ${e.message}` };
    }
    const got = hashFile(runDir.root, f.path);
    if (got.sha256 !== f.sha256) {
      fs.rmSync(target, { force: true });
      return { code: 'remote', message: `${f.path} from ${bucket.url} has SHA-256 ${got.sha256}, not the ${f.sha256} it was sent as: not taken` };
    }
  }
  return undefined;
}

/** Open the run's bucket when it has one. */
export async function openRunBucket(url: string | undefined): Promise<Bucket | undefined> {
  return url ? openBucket({ url }) : undefined;
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
