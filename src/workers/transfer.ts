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
  bucket?: string;
}

/** Upload the attempt's artifacts; a step that made some on a run without a bucket fails, saying so. */
export async function sendArtifacts(o: SendOptions): Promise<{ files: SentFile[] } | { error: StepError }> {
  const files = listFiles(o.runDir.root, o.runDir.artifactsDir(o.stepId)).map((p) => hashFile(o.runDir.root, p));
  if (files.length === 0) return { files };
  if (!o.bucket) return { error: { code: 'remote', message: `the step wrote ${files.length} artifact(s) on a worker, and the run has no --bucket to bring them back` } };
  try {
    const bucket = await openBucket({ url: o.bucket });
    try {
      for (const f of files) if (!(await bucket.has(blobKey(f.sha256)))) await bucket.upload(blobKey(f.sha256), path.join(o.runDir.root, f.path));
    } finally {
      bucket.close();
    }
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return { error: { code: 'remote', message: `artifacts not sent: ${e.message}` } };
  }
  return { files };
}

/** Download files a worker sent into the run folder, each checked against its SHA-256. */
export async function receiveFiles(bucket: Bucket, runDir: RunDir, files: SentFile[]): Promise<StepError | undefined> {
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
      return { code: 'remote', message: `${f.path} from ${bucket.url} has SHA-256 ${got.sha256}, not the ${f.sha256} the worker sent: not recorded` };
    }
  }
  return undefined;
}

/** Open the run's bucket when it has one. */
export async function openRunBucket(url: string | undefined): Promise<Bucket | undefined> {
  return url ? openBucket({ url }) : undefined;
}
