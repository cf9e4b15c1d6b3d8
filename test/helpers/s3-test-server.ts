// A TEST DOUBLE for a bucket: s3rver (an S3-compatible server from npm) on 127.0.0.1, port chosen by the system,
// data in a temporary folder. The real AWS SDK talks to it over real HTTP. It only ever lives in test/.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

/** A running test bucket server and the environment that points the orchestrator at it. */
export interface S3TestServer {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** `s3://<bucket>/<prefix>` for the bucket created at start. */
  url: string;
  /** ORCH_S3_ENDPOINT and the credentials s3rver accepts. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Start s3rver with one empty bucket `name`; `prefix` is appended to the URL handed out. */
export async function startS3TestServer(name = 'orch-test', prefix = 'cache'): Promise<S3TestServer> {
  const directory = await mkdtemp(path.join(tmpdir(), 'orch-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name, configs: [] }] });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    url: `s3://${name}/${prefix}`,
    env: { ORCH_S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
