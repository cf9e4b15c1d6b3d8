// An S3-compatible bucket (AWS S3, MinIO, R2, …) under a prefix: the one place that talks to it, so the remote
// cache and the workers' file transfer agree on addressing, streaming and errors. The AWS SDK loads only when a
// bucket is opened: a local run never pays for it.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OrchestratorError } from '../errors.js';
import { parseBucketUrl } from './bucket-url.js';
import { makeFolder } from '../util/make-folder.js';

/** How to reach the bucket; credentials come from the AWS SDK's usual chain (AWS_ACCESS_KEY_ID, profiles, roles). */
export interface BucketOptions {
  /** `s3://bucket/prefix`. */
  url: string;
  /** An S3-compatible endpoint (MinIO, R2, a test server); default: `ORCH_S3_ENDPOINT`, else AWS itself. */
  endpoint?: string;
  /** Default: `AWS_REGION`, else `us-east-1` (what S3-compatible servers accept). */
  region?: string;
}

/** Objects by key under the bucket's prefix. Every method fails with an OrchestratorError (code `remote`). */
export interface Bucket {
  readonly url: string;
  /** The object's bytes, or undefined when there is none. */
  read(key: string): Promise<Buffer | undefined>;
  /** Stream the object into `file` (written beside it, then renamed); false when there is none. */
  download(key: string, file: string): Promise<boolean>;
  write(key: string, body: Buffer | string): Promise<void>;
  /** Stream `file` up, never reading it whole. */
  upload(key: string, file: string): Promise<void>;
  has(key: string): Promise<boolean>;
  remove(key: string): Promise<void>;
  close(): void;
}

/**
 * Why the bucket cannot be used (unreachable, no such bucket, missing or refused credentials), or undefined when it
 * answers: one read of `probeKey`, which need not exist. A read, not a HEAD: S3 answers a HEAD in a bucket that does
 * not exist with a bare 404, which looks like an absent object.
 */
export async function bucketProblem(bucket: Bucket, probeKey: string): Promise<string | undefined> {
  try {
    await bucket.read(probeKey);
    return undefined;
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return e.message.replace(`bucket ${bucket.url}: reading ${probeKey}: `, '');
  }
}

/** Open a bucket (loads the AWS SDK). Nothing is sent until the first call: bucketProblem checks reachability. */
export async function openBucket(options: BucketOptions): Promise<Bucket> {
  const location = parseBucketUrl(options.url);
  const s3 = await import('@aws-sdk/client-s3');
  const endpoint = options.endpoint ?? process.env.ORCH_S3_ENDPOINT;
  // The SDK warns on Node 20 that its releases after January 2027 need Node 22; the lockfile pins one that runs
  // on 20, so the warning says nothing a user can act on. Silenced for the constructor only, not for steps.
  const quiet = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  const before = process.env[quiet];
  process.env[quiet] = 'true';
  const client = new s3.S3Client({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    // Checksums only where S3 asks for them: S3-compatible servers do not all speak the newer trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  if (before === undefined) delete process.env[quiet];
  else process.env[quiet] = before;
  const objectKey = (key: string): string => (location.prefix === '' ? key : `${location.prefix}/${key}`);
  const fail = (what: string, key: string, error: unknown): never => {
    const detail = error instanceof Error ? error.message : String(error);
    throw new OrchestratorError({ code: 'remote', message: `bucket ${options.url}: ${what} ${key}: ${detail}` });
  };
  const isMissing = (error: unknown): boolean => {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    // A bucket that does not exist is a 404 too, and is a problem, not an absent object.
    if (e.name === 'NoSuchBucket') return false;
    return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
  };
  const getBody = async (key: string): Promise<Readable | undefined> => {
    try {
      const answer = await client.send(new s3.GetObjectCommand({ Bucket: location.bucket, Key: objectKey(key) }));
      return answer.Body as Readable;
    } catch (error) {
      if (isMissing(error)) return undefined;
      return fail('reading', key, error);
    }
  };
  return {
    url: options.url,
    async read(key) {
      const body = await getBody(key);
      if (body === undefined) return undefined;
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of body) chunks.push(chunk as Buffer);
      } catch (error) {
        return fail('reading', key, error);
      }
      return Buffer.concat(chunks);
    },
    async download(key, file) {
      const body = await getBody(key);
      if (body === undefined) return false;
      const partial = `${file}.part-${process.pid}`;
      makeFolder(path.dirname(file));
      try {
        await pipeline(body, createWriteStream(partial));
        await rename(partial, file);
      } catch (error) {
        await rm(partial, { force: true });
        return fail('downloading', key, error);
      }
      return true;
    },
    async write(key, body) {
      try {
        await client.send(new s3.PutObjectCommand({ Bucket: location.bucket, Key: objectKey(key), Body: body }));
      } catch (error) {
        fail('writing', key, error);
      }
    },
    async upload(key, file) {
      try {
        const { size } = await stat(file);
        const Body = createReadStream(file);
        await client.send(new s3.PutObjectCommand({ Bucket: location.bucket, Key: objectKey(key), Body, ContentLength: size }));
      } catch (error) {
        fail('uploading', key, error);
      }
    },
    async has(key) {
      try {
        await client.send(new s3.HeadObjectCommand({ Bucket: location.bucket, Key: objectKey(key) }));
        return true;
      } catch (error) {
        if (isMissing(error)) return false;
        return fail('checking', key, error);
      }
    },
    async remove(key) {
      try {
        await client.send(new s3.DeleteObjectCommand({ Bucket: location.bucket, Key: objectKey(key) }));
      } catch (error) {
        fail('removing', key, error);
      }
    },
    close() {
      client.destroy();
    },
  };
}
