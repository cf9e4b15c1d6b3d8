// The bucket module against a real S3-compatible server on 127.0.0.1 (s3rver), through the real AWS SDK.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBucketUrl } from '../../../src/remote/bucket-url.js';
import { openBucket, type Bucket } from '../../../src/remote/bucket.js';
import { useEnv } from '../../helpers/env.js';
import { startS3TestServer, type S3TestServer } from '../../helpers/s3-test-server.js';

describe('bucket', () => {
  let server: S3TestServer;
  let bucket: Bucket;
  let dir: string;
  useEnv({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  beforeAll(async () => {
    server = await startS3TestServer();
    bucket = await openBucket({ url: server.url, endpoint: server.endpoint });
    dir = await mkdtemp(path.join(tmpdir(), 'orch-bucket-'));
  });
  afterAll(async () => {
    bucket.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('parses s3 URLs and refuses other forms', () => {
    expect(parseBucketUrl('s3://my-bucket/a/b/')).toEqual({ bucket: 'my-bucket', prefix: 'a/b' });
    expect(parseBucketUrl('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(() => parseBucketUrl('https://my-bucket/x')).toThrow(/not of the form s3:\/\/bucket\/prefix/);
    // A name S3 would refuse says why, rather than that the URL has the wrong form.
    expect(() => parseBucketUrl('s3://b/run')).toThrow(/"b" is not a bucket name \(3 to 63 characters/);
    expect(() => parseBucketUrl('s3://My_Bucket/run')).toThrow(/"My_Bucket" is not a bucket name/);
  });

  it('writes, reads, checks and removes objects; a missing one is undefined, not an error', async () => {
    expect(await bucket.read('nothing-here')).toBeUndefined();
    expect(await bucket.has('k1')).toBe(false);
    await bucket.write('k1', 'hello');
    expect(await bucket.has('k1')).toBe(true);
    expect((await bucket.read('k1'))?.toString()).toBe('hello');
    await bucket.remove('k1');
    expect(await bucket.has('k1')).toBe(false);
  });

  it('streams files up and down byte for byte', async () => {
    const source = path.join(dir, 'in.bin');
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 7, 0xa5);
    await writeFile(source, bytes);
    await bucket.upload('blobs/in.bin', source);
    const target = path.join(dir, 'sub', 'out.bin');
    expect(await bucket.download('blobs/in.bin', target)).toBe(true);
    expect((await readFile(target)).equals(bytes)).toBe(true);
    expect(await bucket.download('blobs/missing', path.join(dir, 'x'))).toBe(false);
  });

  it('names the bucket and the key when the server cannot be reached', async () => {
    const dead = await openBucket({ url: 's3://orch-test/x', endpoint: 'http://127.0.0.1:9' });
    await expect(dead.read('k')).rejects.toThrow(/bucket s3:\/\/orch-test\/x: reading k:/);
    dead.close();
  });
});
