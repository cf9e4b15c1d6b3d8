// Issue 17, the remote cache: a bucket (s3rver on 127.0.0.1) layered under the local response cache, entries signed
// with $ORCH_REMOTE_CACHE_KEY. "Another machine" is another cache folder. Black-box: the built binary, the LLM test
// server and the bucket server both real HTTP servers started here.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openBucket } from '../../src/remote/bucket.js';
import { useCliRig, type CliResult } from '../helpers/cli.js';
import { useEnv } from '../helpers/env.js';
import { LlmTestServer } from '../helpers/llm-test-server.js';
import { startS3TestServer, type S3TestServer } from '../helpers/s3-test-server.js';

const rig = useCliRig('orch-remote-');
const LLM_KEY = 'sk-test-remote-123';
const SIGNING_KEY = 'k'.repeat(40);
/** A key's id as spec §5 derives it: 12 hex digits of HMAC-SHA256 of a fixed text with the key. */
const keyIdOf = (key: string) => createHmac('sha256', key).update('orchestrator remote cache key id').digest('hex').slice(0, 12);
const PREFIX = 'cache';

let llm: LlmTestServer;
let s3: S3TestServer;
let client: S3Client;

beforeAll(async () => {
  llm = await LlmTestServer.start({ key: LLM_KEY });
  s3 = await startS3TestServer('orch-test', PREFIX);
  // The test's own client: without the SDK's Node 20 notice in the test log (the orchestrator's own is checked elsewhere).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
});
afterAll(async () => {
  client.destroy();
  await llm.close();
  await s3.close();
});
beforeEach(async () => {
  llm.reset();
  // One bucket for the file: empty it so that each test starts with nothing remote.
  const keys = await bucketKeys();
  if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: 'orch-test', Delete: { Objects: keys.map((Key) => ({ Key })) } }));
});

/** Every object key in the test bucket. */
async function bucketKeys(): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: 'orch-test' }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

const spec = (extra = '') => `
providers: { local: { type: openai, base_url: '${llm.url}/v1', api_key_env: TEST_LLM_KEY, model: test-model } }
steps:
  ask:
    prompt: hello from the remote cache test
${extra}`;

/** `run spec.yaml` as "machine" `cache` (its own cache folder) with the remote cache. */
function runOn(cache: string, o: { args?: string[]; env?: Record<string, string> } = {}): Promise<CliResult> {
  return rig().runAsync(['run', 'spec.yaml', '--cache-dir', rig().path(cache), '--remote-cache', s3.url, ...(o.args ?? [])], {
    env: { ...s3.env, TEST_LLM_KEY: LLM_KEY, ORCH_REMOTE_CACHE_KEY: SIGNING_KEY, ...o.env },
  });
}

const succeededEvent = (step: string) => rig().events().find((e) => e.type === 'step.succeeded' && e.step === step)!;

/** Rewrite the one entry in the bucket. */
async function tamper(change: (envelope: Record<string, unknown>) => void): Promise<void> {
  const [key] = (await bucketKeys()).filter((k) => k.startsWith(`${PREFIX}/v1/entries/`));
  const bucket = await openBucket({ url: `s3://orch-test`, endpoint: s3.endpoint });
  try {
    const envelope = JSON.parse((await bucket.read(key!))!.toString()) as Record<string, unknown>;
    change(envelope);
    await bucket.write(key!, JSON.stringify(envelope));
  } finally {
    bucket.close();
  }
}

describe('remote cache', () => {
  useEnv({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });

  it('a second, empty machine gets the answer from the bucket with no request to the provider, and keeps it locally', async () => {
    rig().write('spec.yaml', spec());
    const first = await runOn('machine-a');
    expect(first.code, first.stderr).toBe(0);
    expect(llm.count()).toBe(1);
    expect(rig().manifest().steps.ask).toMatchObject({ cached: false });
    expect(await bucketKeys()).toEqual([`${PREFIX}/v1/entries/${succeededEvent('ask').cache_key as string}`]);

    const second = await runOn('machine-b');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    expect(llm.count()).toBe(1); // no request from machine b
    expect(rig().manifest().steps.ask).toMatchObject({ status: 'succeeded', cached: true, cache_source: 'remote' });
    expect(succeededEvent('ask')).toMatchObject({ cached: true, cache_source: 'remote' });
    expect(rig().output('ask').text).toBe('answer to: hello from the remote cache test');
    expect(rig().log('ask')).toContain('--- cache hit (remote cache)');

    // rerun (and resume) take the same options: a third empty machine gets it from the bucket too.
    const rerun = await rig().runAsync(['rerun', 'latest', '--step', 'ask', '--cache-dir', rig().path('machine-c'), '--remote-cache', s3.url], {
      env: { ...s3.env, TEST_LLM_KEY: LLM_KEY, ORCH_REMOTE_CACHE_KEY: SIGNING_KEY },
    });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rig().manifest().steps.ask).toMatchObject({ cached: true, cache_source: 'remote' });

    // Machine b kept it: without the remote cache it is a local hit.
    const third = await rig().runAsync(['run', 'spec.yaml', '--cache-dir', rig().path('machine-b')], { env: { TEST_LLM_KEY: LLM_KEY } });
    expect(third.code, third.stderr).toBe(0);
    expect(rig().manifest().steps.ask).toMatchObject({ cached: true, cache_source: 'local' });
    expect(llm.count()).toBe(1);
  }, 120_000);

  it('an entry whose bytes were changed, or that is unsigned, is ignored with a warning and the step asks the provider', async () => {
    rig().write('spec.yaml', spec());
    expect((await runOn('machine-a')).code).toBe(0);
    await tamper((e) => (e.data = Buffer.from(JSON.stringify({ format: 1, parts: {}, answer: { text: 'poisoned', finish_reason: 'stop', stored_at: 'x' } })).toString('base64')));
    const changed = await runOn('machine-b', { args: ['--remote-cache-read-only'] });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stderr).toMatch(/warning: step "ask": remote cache entry [0-9a-f]{12}… in s3:\/\/orch-test\/cache has content that does not match its SHA-256: ignored, treated as a miss/);
    expect(llm.count()).toBe(2);
    expect(rig().output('ask').text).toBe('answer to: hello from the remote cache test');
    expect(rig().manifest().steps.ask).toMatchObject({ cached: false });
    expect(succeededEvent('ask').cache_warnings).toEqual([expect.stringContaining('does not match its SHA-256')]);

    await tamper((e) => delete e.hmac);
    const unsigned = await runOn('machine-c');
    expect(unsigned.code, unsigned.stderr).toBe(0);
    expect(unsigned.stderr).toMatch(/remote cache entry [0-9a-f]{12}… in s3:\/\/orch-test\/cache is unsigned: ignored, treated as a miss/);
    expect(llm.count()).toBe(3);
  }, 120_000);

  it('an entry signed with another key is ignored with a warning, and not overwritten: machines whose keys differ do not undo each other', async () => {
    rig().write('spec.yaml', spec());
    expect((await runOn('machine-a')).code).toBe(0);
    const [entry] = (await bucketKeys()).filter((k) => k.startsWith(`${PREFIX}/v1/entries/`));
    const before = (await client.send(new GetObjectCommand({ Bucket: 'orch-test', Key: entry! })).then((o) => o.Body!.transformToString()));
    const other = await runOn('machine-b', { env: { ORCH_REMOTE_CACHE_KEY: 'x'.repeat(40) } });
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toContain(`is signed with another key (key id ${keyIdOf(SIGNING_KEY)}; this machine's $ORCH_REMOTE_CACHE_KEY has key id ${keyIdOf('x'.repeat(40))}): ignored, treated as a miss`);
    expect(other.stderr).toContain(`is signed with another key (key id ${keyIdOf(SIGNING_KEY)}): not overwritten, the result is stored locally only (every machine that shares ${s3.url} needs the same $ORCH_REMOTE_CACHE_KEY; after changing the key, use a new prefix)`);
    expect(llm.count()).toBe(2);
    expect(rig().manifest().steps.ask).toMatchObject({ cached: false });
    // The key is a secret: masked in what the run wrote.
    expect(fs.readFileSync(rig().runPath('events.jsonl'), 'utf8')).not.toContain('x'.repeat(40));
    // The entry is the one machine a wrote: a third machine with a's key still gets it, with no request.
    expect(await client.send(new GetObjectCommand({ Bucket: 'orch-test', Key: entry! })).then((o) => o.Body!.transformToString())).toBe(before);
    const third = await runOn('machine-c');
    expect(third.code, third.stderr).toBe(0);
    expect(rig().manifest().steps.ask).toMatchObject({ cached: true, cache_source: 'remote' });
    expect(llm.count()).toBe(2);
    // An entry whose signature fails under its own key id was altered (or is from before key ids): not another
    // machine's, so the result that replaces it is written.
    await tamper((e) => (e.metadata = { ...(e.metadata as object), altered: true }));
    const healed = await runOn('machine-d');
    expect(healed.stderr).toContain('has a signature that does not match this key (written with another key, or altered): ignored, treated as a miss');
    expect(healed.stderr).not.toContain('not overwritten');
    expect((await runOn('machine-e')).stderr).toBe('');
    expect(rig().manifest().steps.ask).toMatchObject({ cached: true, cache_source: 'remote' });
  }, 120_000);

  it('--remote-cache-read-only reads the bucket and never writes it', async () => {
    rig().write('spec.yaml', spec());
    const readOnly = await runOn('machine-a', { args: ['--remote-cache-read-only'] });
    expect(readOnly.code, readOnly.stderr).toBe(0);
    expect(llm.count()).toBe(1);
    expect(await bucketKeys()).toEqual([]);
    expect(rig().log('ask')).toContain('cache: stored'); // locally

    expect((await runOn('machine-b')).code).toBe(0);
    expect(await bucketKeys()).toHaveLength(1);
    const reader = await runOn('machine-c', { args: ['--remote-cache-read-only'] });
    expect(reader.code, reader.stderr).toBe(0);
    expect(rig().manifest().steps.ask).toMatchObject({ cached: true, cache_source: 'remote' });
    expect(llm.count()).toBe(2);
  }, 120_000);

  it('failed steps and incomplete answers are never stored', async () => {
    rig().write('spec.yaml', spec('    retry: 1\n'));
    llm.script({ status: 500, message: 'boom' });
    const failed = await runOn('machine-a');
    expect(failed.code).toBe(1);
    expect(rig().manifest().steps.ask).toMatchObject({ status: 'failed' });
    llm.script({ reply: 'cut off', finish: 'length' });
    const cut = await runOn('machine-a');
    expect(cut.code, cut.stderr).toBe(0);
    expect(await bucketKeys()).toEqual([]);
  }, 120_000);

  it('a bucket that cannot be reached, or no signing key, stops the run before any run folder (exit 2)', async () => {
    rig().write('spec.yaml', spec());
    const dead = await runOn('machine-a', { env: { ORCH_S3_ENDPOINT: 'http://127.0.0.1:9' }, args: ['--json'] });
    expect(dead.code).toBe(2);
    expect(dead.stderr).toMatch(/^the remote cache s3:\/\/orch-test\/cache cannot be used: .+ \(run without --remote-cache and \$ORCH_REMOTE_CACHE to use only the local cache\)\n$/);
    expect(JSON.parse(dead.stdout)).toMatchObject({ ok: false, problems: [{ code: 'remote' }] });
    const noKey = await runOn('machine-a', { env: { ORCH_REMOTE_CACHE_KEY: '' } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('signs and checks every entry with the key in $ORCH_REMOTE_CACHE_KEY, which is not set');
    const readOnlyAlone = await rig().runAsync(['run', 'spec.yaml', '--remote-cache-read-only']);
    expect(readOnlyAlone.code).toBe(2);
    expect(readOnlyAlone.stderr).toContain('--remote-cache-read-only needs a remote cache');
    expect(rig().jobs()).toEqual([]);
    expect(llm.count()).toBe(0);
  }, 120_000);

  it('a bucket lost during the run: the step proceeds as a miss, says so on stderr and in its events, and stores locally', async () => {
    const lost = await startS3TestServer('orch-lost', PREFIX);
    try {
      // The gate holds the prompt step until the bucket is gone: it says it is running, then waits for "go".
      rig().write('spec.yaml', `${spec()}    needs: [gate]\n  gate:\n    run: touch ready; while [ ! -e go ]; do sleep 0.05; done\n`);
      const run = rig().runAsync(['run', 'spec.yaml', '--cache-dir', rig().path('a'), '--remote-cache', lost.url], {
        env: { ...lost.env, TEST_LLM_KEY: LLM_KEY, ORCH_REMOTE_CACHE_KEY: SIGNING_KEY },
      });
      while (!rig().exists('ready')) await new Promise((resolve) => setTimeout(resolve, 50));
      await lost.close();
      rig().write('go', '');
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: step "ask": remote cache: bucket s3:\/\/orch-lost\/cache: reading v1\/entries\/[0-9a-f]{64}: .+; treated as a miss/);
      expect(r.stderr).toMatch(/warning: step "ask": remote cache: bucket s3:\/\/orch-lost\/cache: writing v1\/entries\/[0-9a-f]{64}: .+; the entry is stored locally only/);
      expect(llm.count()).toBe(1);
      expect(succeededEvent('ask').cache_warnings).toEqual([expect.stringContaining('treated as a miss'), expect.stringContaining('stored locally only')]);
      expect(rig().log('ask')).toContain('cache: stored\ncache: remote cache: bucket');
    } finally {
      await lost.close().catch(() => {});
    }
  }, 120_000);

  it('$ORCH_REMOTE_CACHE does what --remote-cache does', async () => {
    rig().write('spec.yaml', spec());
    const env = { ...s3.env, TEST_LLM_KEY: LLM_KEY, ORCH_REMOTE_CACHE_KEY: SIGNING_KEY, ORCH_REMOTE_CACHE: s3.url };
    expect((await rig().runAsync(['run', 'spec.yaml', '--cache-dir', rig().path('a')], { env })).code).toBe(0);
    expect(await bucketKeys()).toHaveLength(1);
  }, 120_000);
});

describe('remote cache of cached run steps', () => {
  useEnv({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  const STEP_SPEC = `
steps:
  build:
    cache: { inputs: [src.txt], outputs: [out.bin] }
    run: |
      echo ran >> runs.count
      head -c 40000 /dev/urandom > out.bin
      cp out.bin "$ORCH_ARTIFACTS/copy.bin"
      echo "size=$(wc -c < src.txt)" >> "$ORCH_OUTPUT"
`;
  const count = () => (fs.existsSync(rig().path('runs.count')) ? fs.readFileSync(rig().path('runs.count'), 'utf8').split('\n').filter(Boolean).length : 0);

  it('a second, empty machine restores the step from the bucket with no process: outputs, artifacts and workspace files byte for byte', async () => {
    rig().write('spec.yaml', STEP_SPEC);
    rig().write('src.txt', 'hello\n');
    const first = await runOn('machine-a');
    expect(first.code, first.stderr).toBe(0);
    expect(count()).toBe(1);
    const keys = await bucketKeys();
    expect(keys.filter((k) => k.startsWith(`${PREFIX}/v1/steps/`))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith(`${PREFIX}/v1/blobs/`)).length).toBeGreaterThan(0);
    const made = fs.readFileSync(rig().path('out.bin'));
    fs.rmSync(rig().path('out.bin'));

    const second = await runOn('machine-b');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    expect(count()).toBe(1); // no process ran on machine b
    expect(rig().manifest().steps.build).toMatchObject({ status: 'succeeded', cached: true, cache_source: 'remote' });
    expect(fs.readFileSync(rig().path('out.bin')).equals(made)).toBe(true);
    expect(fs.readFileSync(rig().runPath('artifacts/build/copy.bin')).equals(made)).toBe(true);
    expect(rig().output('build').outputs).toEqual({ size: '6' });

    // Machine b kept it: without the remote cache it is a local hit.
    const third = await rig().runAsync(['run', 'spec.yaml', '--cache-dir', rig().path('machine-b')]);
    expect(third.code, third.stderr).toBe(0);
    expect(count()).toBe(1);
    expect(rig().manifest().steps.build).toMatchObject({ cached: true, cache_source: 'local' });
  }, 120_000);

  it('a step entry signed with another key is not overwritten by the step that then runs', async () => {
    rig().write('spec.yaml', STEP_SPEC);
    rig().write('src.txt', 'hello\n');
    expect((await runOn('machine-a')).code).toBe(0);
    const [key] = (await bucketKeys()).filter((k) => k.startsWith(`${PREFIX}/v1/steps/`));
    const read = () => client.send(new GetObjectCommand({ Bucket: 'orch-test', Key: key! })).then((o) => o.Body!.transformToString());
    const before = await read();
    const other = await runOn('machine-b', { env: { ORCH_REMOTE_CACHE_KEY: 'x'.repeat(40) } });
    expect(other.code, other.stderr).toBe(0);
    expect(count()).toBe(2);
    expect(other.stderr).toContain(`is signed with another key (key id ${keyIdOf(SIGNING_KEY)}): not overwritten, the result is stored locally only`);
    expect(await read()).toBe(before);
  }, 120_000);

  it('a step entry changed in the bucket is ignored with a warning, and the step runs', async () => {
    rig().write('spec.yaml', STEP_SPEC);
    rig().write('src.txt', 'hello\n');
    expect((await runOn('machine-a')).code).toBe(0);
    const [key] = (await bucketKeys()).filter((k) => k.startsWith(`${PREFIX}/v1/steps/`));
    const bucket = await openBucket({ url: 's3://orch-test', endpoint: s3.endpoint });
    try {
      const envelope = JSON.parse((await bucket.read(key!))!.toString()) as Record<string, unknown>;
      envelope.data = Buffer.from(JSON.stringify({ entry: { poisoned: true }, blobs: [], metadata: {} })).toString('base64');
      await bucket.write(key!, JSON.stringify(envelope));
    } finally {
      bucket.close();
    }
    const second = await runOn('machine-b');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/remote cache entry [0-9a-f]{12}… in s3:\/\/orch-test\/cache has content that does not match its SHA-256: ignored/);
    expect(count()).toBe(2);
    expect(rig().manifest().steps.build).toMatchObject({ cached: false });
    // Said where the step's story is told too: at the end of its log, and in its event's cache_warnings.
    expect(rig().log('build')).toMatch(/\[orchestrator\] cache: remote cache entry [0-9a-f]{12}… in s3:\/\/orch-test\/cache has content that does not match its SHA-256: ignored; treated as a miss, the step runs\n$/);
    const ended = rig().events().find((e) => e.type === 'step.succeeded' && e.step === 'build') as { cache_warnings?: string[] };
    expect(ended.cache_warnings).toEqual([expect.stringMatching(/^remote cache entry [0-9a-f]{12}… .*: ignored; treated as a miss, the step runs$/)]);
  }, 120_000);
});

describe('doctor with a remote cache', () => {
  const doctor = async (env: Record<string, string>) => {
    const r = await rig().runAsync(['doctor', '--json'], { env: { ...s3.env, ORCH_REMOTE_CACHE_KEY: SIGNING_KEY, ...env } });
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; state: string; value: string; detail?: string }[] };
    return { code: r.code, check: report.checks.find((c) => c.name === 'remote cache') };
  };

  it('checks the bucket when one is configured: reachable, unreachable, missing', async () => {
    expect(await doctor({ ORCH_REMOTE_CACHE: s3.url })).toEqual({
      code: 0,
      check: { name: 'remote cache', state: 'ok', value: `${s3.url} ($ORCH_REMOTE_CACHE)`, detail: `reachable through $ORCH_S3_ENDPOINT ${s3.endpoint}; entries signed and checked with $ORCH_REMOTE_CACHE_KEY (key id ${keyIdOf(SIGNING_KEY)}: the same on every machine that shares the cache)` },
    });
    const dead = await doctor({ ORCH_REMOTE_CACHE: s3.url, ORCH_S3_ENDPOINT: 'http://127.0.0.1:9' });
    expect(dead.code).toBe(1);
    expect(dead.check).toMatchObject({ state: 'problem', detail: expect.stringMatching(/^the remote cache s3:\/\/orch-test\/cache cannot be used: /) });
    const missing = await doctor({ ORCH_REMOTE_CACHE: 's3://no-such-bucket/x' });
    expect(missing.code).toBe(1);
    expect(missing.check).toMatchObject({ state: 'problem', detail: expect.stringContaining('s3://no-such-bucket/x cannot be used') });
    const noKey = await doctor({ ORCH_REMOTE_CACHE: s3.url, ORCH_REMOTE_CACHE_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.check).toMatchObject({ state: 'problem', detail: expect.stringContaining('$ORCH_REMOTE_CACHE_KEY, which is not set') });
    expect((await doctor({})).check).toBeUndefined();
  }, 120_000);
});

describe('start-up', () => {
  it('the AWS SDK loads only for a run or doctor with a remote cache', async () => {
    const loaded = rig().path('loaded.txt');
    const probe = rig().write(
      'record-loaded.cjs',
      `process.on('exit', () => {
  if (Object.keys(require.cache).some((f) => f.includes('node_modules/@aws-sdk/client-s3/'))) require('node:fs').appendFileSync(${JSON.stringify(loaded)}, process.argv.slice(2).join(' ') + '\\n');
});
`,
    );
    const env = { ...s3.env, TEST_LLM_KEY: LLM_KEY, ORCH_REMOTE_CACHE_KEY: SIGNING_KEY, NODE_OPTIONS: `--require ${rig().path(probe)}` };
    rig().write('spec.yaml', spec());
    expect((await rig().runAsync(['run', 'spec.yaml', '--cache-dir', rig().path('a')], { env })).code).toBe(0);
    expect((await rig().runAsync(['doctor'], { env })).code).toBe(0);
    expect(fs.existsSync(loaded)).toBe(false);
    expect((await rig().runAsync(['run', 'spec.yaml', '--cache-dir', rig().path('a'), '--remote-cache', s3.url], { env })).code).toBe(0);
    expect(fs.readFileSync(loaded, 'utf8')).toContain('--remote-cache');
  }, 120_000);
});
