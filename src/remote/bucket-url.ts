// The address of a bucket, `s3://bucket/prefix`, apart from the bucket itself: checking an option needs this,
// not bucket.ts's streams and file system promises, which a local run never loads.
import { OrchestratorError } from '../errors.js';

/** Where a bucket URL points: `s3://bucket/prefix`. */
export interface BucketLocation {
  bucket: string;
  /** Without leading or trailing `/`; empty for the bucket's root. */
  prefix: string;
}

/** Parse `s3://bucket/prefix`; anything else is a usage error naming the expected form. */
export function parseBucketUrl(url: string): BucketLocation {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (match === null) {
    throw new OrchestratorError({ code: 'usage', message: `bucket "${url}" is not of the form s3://bucket/prefix` });
  }
  const bucket = match[1]!;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new OrchestratorError({
      code: 'usage',
      message: `bucket "${url}": "${bucket}" is not a bucket name (3 to 63 characters: lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit)`,
    });
  }
  return { bucket, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}
