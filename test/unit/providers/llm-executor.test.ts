// The LLM executor: cache, timeouts, offline, refusals, output: json, limits and secrets, against the test server.
import type { ContractCheck } from '../../../src/steps/contract.js';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EvalContext } from '../../../src/expr/index.js';
import { ProviderLimiter } from '../../../src/providers/limit.js';
import { createOpenAiProvider } from '../../../src/providers/openai.js';
import type { ResolvedProvider } from '../../../src/providers/provider.js';
import type { StepSpec } from '../../../src/specfile/model.js';
import { LlmExecutor, type LlmBinding } from '../../../src/steps/llm.js';
import { ResponseCache } from '../../../src/store/cache.js';
import { Redactor } from '../../../src/store/redact.js';
import { RunDir } from '../../../src/store/run-dir.js';
import { LlmTestServer } from '../../helpers/llm-test-server.js';
import { alterInline } from '../../helpers/cache-index.js';

let server: LlmTestServer;
let dir: string;
let runDir: RunDir;
let cache: ResponseCache;
let warnings: string[];

beforeAll(async () => {
  server = await LlmTestServer.start();
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-llm-'));
  runDir = RunDir.create(path.join(dir, 'runs'));
  cache = ResponseCache.open(path.join(dir, 'cache'));
  warnings = [];
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function step(over: Partial<StepSpec> = {}): StepSpec {
  return {
    id: 'ask',
    kind: 'llm',
    prompt: 'hello',
    needs: [],
    output: 'text',
    retry: { attempts: 1, delayMs: 0, backoff: 'fixed', maxDelayMs: 0 },
    hasOwnRetry: false,
    continueOnError: false,
    env: {},
    cwd: dir,
    shell: 'bash',
    cache: true,
    ...over,
  };
}

function executor(o: { provider?: Partial<ResolvedProvider>; offline?: boolean; noCache?: boolean; force?: string[]; checkContract?: ContractCheck; redactor?: Redactor; limiter?: ProviderLimiter; ids?: string[] } = {}) {
  const config: ResolvedProvider = { name: 'local', type: 'openai', baseUrl: `${server.url}/v1`, model: 'test-model', ...o.provider };
  const binding: LlmBinding = { provider: createOpenAiProvider(config), limiter: o.limiter ?? new ProviderLimiter({}) };
  return new LlmExecutor({
    runDir,
    redactor: o.redactor ?? new Redactor([]),
    bindings: new Map((o.ids ?? ['ask']).map((id) => [id, binding])),
    cache,
    noCache: o.noCache ?? false,
    force: new Set(o.force ?? []),
    offline: o.offline ?? false,
    ...(o.checkContract ? { checkContract: o.checkContract } : {}),
    warn: (m) => warnings.push(m),
  });
}

const none: EvalContext = { contexts: {} };
const run = (ex: LlmExecutor, s: StepSpec, o: { signal?: AbortSignal; context?: EvalContext; attempt?: number } = {}) =>
  ex.runAttempt({ step: s, attempt: o.attempt ?? 1, signal: o.signal ?? new AbortController().signal, context: o.context ?? none });

const log = (id = 'ask') => fs.readFileSync(runDir.logPath(id), 'utf8');

/** Every byte of every file below a folder. */
function allBytes(root: string): string {
  let out = '';
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out += fs.readFileSync(p, 'latin1');
    }
  };
  walk(root);
  return out;
}

describe('the step log', () => {
  it('a log that cannot be made fails the attempt with io, naming it, and sends no request', async () => {
    fs.rmSync(path.dirname(runDir.logPath('ask')), { recursive: true }); // the run folder lost its logs/ folder
    const r = await run(executor(), step());
    expect(r).toMatchObject({ status: 'failed', retryable: false, error: { code: 'io', message: expect.stringContaining(runDir.logPath('ask')) } });
    expect(r.logFile).toBeUndefined();
    expect(server.count()).toBe(0);
  });

  it('reports what it wrote, as the file holds it, through a retry', async () => {
    const ex = executor();
    server.script({ status: 500 });
    const retried = step({ retry: { attempts: 2, delayMs: 0, backoff: 'fixed', maxDelayMs: 0 } });
    expect(await run(ex, retried)).toMatchObject({ status: 'failed', retryable: true });
    const second = await run(ex, retried, { attempt: 2 });
    const bytes = fs.readFileSync(runDir.logPath('ask'));
    expect(second.logFile).toEqual({ path: 'logs/ask.log', sha256: createHash('sha256').update(bytes).digest('hex'), size_bytes: bytes.length });
  });
});

describe('the response cache', () => {
  it('answers the second identical request from the cache, without a request', async () => {
    const ex = executor();
    const first = await run(ex, step());
    expect(first).toMatchObject({ status: 'succeeded', text: 'answer to: hello', cached: false, usage: { input_tokens: 1, output_tokens: 3 } });
    const second = await run(ex, step());
    expect(second).toMatchObject({ status: 'succeeded', text: 'answer to: hello', cached: true });
    expect(second.usage).toBeUndefined(); // nothing was spent
    expect(second.cacheKey).toBe(first.cacheKey);
    expect(server.count()).toBe(1);
    expect(log()).toMatch(/cache hit/);
  });

  it('a different prompt, model, system, temperature, max_tokens or base URL is a different key', async () => {
    const ex = executor();
    const keys = new Set<string>();
    for (const s of [step(), step({ prompt: 'hello!' }), step({ model: 'other' }), step({ system: 'be brief' }), step({ temperature: 0 }), step({ maxTokens: 10 })]) {
      keys.add((await run(ex, s)).cacheKey!);
    }
    keys.add((await run(executor({ provider: { baseUrl: `${server.url}/v1/` + '..' } }), step())).cacheKey!);
    expect(keys.size).toBe(7);
  });

  it('records the key parts, defaults included', async () => {
    const r = await run(executor({ provider: { temperature: 0.3 } }), step({ prompt: 'Design ${{ vars.p }}' }), { context: { contexts: { vars: { p: 'notes' } } } });
    expect(r.cacheKeyParts).toEqual({ format: 1, provider: 'openai', base_url: `${server.url}/v1`, model: 'test-model', system: null, prompt: 'Design notes', temperature: 0.3, max_tokens: null });
    expect(r.cacheKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--no-cache does not read the cache (but stores the fresh answer)', async () => {
    await run(executor(), step());
    expect((await run(executor({ noCache: true }), step())).cached).toBe(false);
    expect(server.count()).toBe(2);
    expect((await run(executor(), step())).cached).toBe(true);
    expect(server.count()).toBe(2);
  });

  it('--force <step> does not read its cached answer (but stores the fresh one); other steps still hit', async () => {
    await run(executor(), step());
    expect((await run(executor({ force: ['other'] }), step())).cached).toBe(true);
    expect((await run(executor({ force: ['ask'] }), step())).cached).toBe(false);
    expect(server.count()).toBe(2);
    expect((await run(executor(), step())).cached).toBe(true);
    expect(server.count()).toBe(2);
  });

  it('cache: false neither reads nor stores', async () => {
    await run(executor(), step({ cache: false }));
    await run(executor(), step({ cache: false }));
    expect(server.count()).toBe(2);
    await run(executor(), step());
    expect(server.count()).toBe(3);
  });

  it('--offline answers from the cache, and fails a miss without a request', async () => {
    await run(executor(), step());
    expect(await run(executor({ offline: true }), step())).toMatchObject({ status: 'succeeded', cached: true });
    const miss = await run(executor({ offline: true }), step({ prompt: 'new' }));
    expect(miss).toMatchObject({ status: 'failed', retryable: false, error: { code: 'provider' } });
    expect(miss.error!.message).toMatch(/--offline/);
    expect(server.count()).toBe(1);
  });

  it('never stores truncated answers or refusals', async () => {
    server.script({ reply: 'cut', finish: 'length' }, { reply: 'cut', finish: 'length' });
    expect(await run(executor(), step())).toMatchObject({ status: 'succeeded', text: 'cut', cached: false });
    expect(await run(executor(), step())).toMatchObject({ status: 'succeeded', cached: false });
    expect(log()).toMatch(/not cached/);
    // Said where the user looks, not only in the log: the step succeeds with the text as it came.
    expect(warnings).toEqual(Array(2).fill('step "ask": the answer ended with finish_reason length (cut at max_tokens), not a complete answer: kept as the step\'s text, not cached'));
    server.script({ reply: 'No.', finish: 'refusal' });
    const refused = await run(executor(), step({ prompt: 'bad' }));
    expect(refused).toMatchObject({ status: 'failed', retryable: false, error: { code: 'provider' } });
    expect(refused.error!.message).toMatch(/refused.*No\./);
    expect((await run(executor(), step({ prompt: 'bad' }))).cached).toBe(false);
    expect(server.count()).toBe(4);
  });

  it('an entry that fails its integrity check is reported, not returned, and replaced', async () => {
    await run(executor(), step());
    expect(alterInline(cache.dir, 'answer to: hello', 'answer to: HACKED')).toBe(1); // its line's own SHA-1 made again
    const r = await run(executor(), step());
    expect(r).toMatchObject({ status: 'succeeded', text: 'answer to: hello', cached: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/failed its integrity check.*treated as a miss/);
    expect(log()).toMatch(/integrity/);
    expect(server.count()).toBe(2);
    expect((await run(executor(), step())).cached).toBe(true);
    expect(server.count()).toBe(2);
  });

  it('stores and logs secrets as ***', async () => {
    const secret = 'sk-test-SECRET-123';
    const redactor = new Redactor([secret]);
    const r = await run(executor({ redactor }), step({ prompt: 'the key is ${{ vars.k }}' }), { context: { contexts: { vars: { k: secret } } } });
    expect(r.text).toContain(secret); // the answer itself; job.ts masks it in what it writes
    const bytes = allBytes(dir);
    expect(bytes).not.toContain(secret);
    expect(bytes).toContain('the key is ***');
  });
});

describe('faults', () => {
  it('a silent server fails the attempt by timeout, retryably', async () => {
    server.script({ hang: true });
    const started = Date.now();
    const r = await run(executor(), step({ timeoutMs: 300 }));
    expect(r).toMatchObject({ status: 'failed', retryable: true, error: { code: 'timeout' } });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('the provider timeout applies when the step sets none', async () => {
    server.script({ hang: true });
    expect(await run(executor({ provider: { timeoutMs: 200 } }), step())).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
  });

  it('idle_timeout: a stream that goes quiet fails, keeping the partial answer in the log', async () => {
    server.script({ stall: true });
    const r = await run(executor(), step({ timeoutMs: 10_000, idleTimeoutMs: 300 }));
    expect(r).toMatchObject({ status: 'failed', retryable: true, error: { code: 'idle-timeout' } });
    expect(log()).toMatch(/partial response ---\nanswer t/);
  });

  it('cancellation stops a request at once', async () => {
    server.script({ hang: true });
    const controller = new AbortController();
    const pending = run(executor(), step({ timeoutMs: 10_000 }), { signal: controller.signal });
    while (server.count() === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect(await pending).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
  });

  it('429 passes Retry-After on to the scheduler; 401 is final with the message', async () => {
    server.script({ status: 429, retryAfter: '2' }, { status: 401, message: 'bad key' });
    expect(await run(executor(), step())).toMatchObject({ status: 'failed', retryable: true, retryAfterMs: 2000, error: { code: 'provider' } });
    const r = await run(executor(), step());
    expect(r).toMatchObject({ status: 'failed', retryable: false, error: { code: 'provider', message: 'provider "local": HTTP 401: bad key' } });
  });

  it('a Retry-After beyond ten minutes is not waited for', async () => {
    server.script({ status: 429, retryAfter: '3600' });
    const r = await run(executor(), step());
    expect(r).toMatchObject({ status: 'failed', retryable: false });
    expect(r.error!.message).toMatch(/not waiting that long/);
  });

  it('logs the request without the key, and the response', async () => {
    await run(executor({ provider: { apiKey: 'sk-test-SECRET-123' } }), step({ system: 'be brief', temperature: 0.2 }));
    const text = log();
    expect(text).toContain(`POST ${server.url}/v1/chat/completions`);
    expect(text).toContain('"content": "be brief"');
    expect(text).toContain('"temperature": 0.2');
    expect(text).toMatch(/--- response: finish_reason stop, 3 input \/ 3 output tokens/);
    expect(text).toContain('answer to: hello');
    expect(text).not.toContain('sk-test-SECRET-123');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-test-SECRET-123');
  });
});

describe('output: json', () => {
  it('parses the answer, also inside a code fence', async () => {
    server.script({ reply: '```json\n{"endpoints": ["/notes"]}\n```' });
    expect(await run(executor(), step({ output: 'json' }))).toMatchObject({ status: 'succeeded', outputs: { endpoints: ['/notes'] } });
  });

  it('an answer that is not JSON fails the step and is not stored', async () => {
    server.script({ reply: 'sure! here it is' });
    const r = await run(executor(), step({ output: 'json' }));
    expect(r).toMatchObject({ status: 'failed', retryable: false, error: { code: 'output' } });
    expect(r.error!.message).toMatch(/the response is not JSON/);
    await run(executor(), step({ output: 'json' }));
    expect(server.count()).toBe(2);
  });

  it('an answer whose outputs break the outputs_schema is not stored: the next run asks again', async () => {
    server.script({ reply: '{"x": 1}' });
    const contract: ContractCheck = (_s, outputs) => ('y' in outputs ? undefined : { code: 'contract', message: 'outputs do not match outputs_schema: outputs.y is required' });
    expect(await run(executor({ checkContract: contract }), step({ output: 'json' }))).toMatchObject({ status: 'succeeded', outputs: { x: 1 } }); // the scheduler fails it
    await run(executor({ checkContract: contract }), step({ output: 'json' }));
    expect(server.count()).toBe(2);
  });
});

describe('provider limits', () => {
  it('concurrency: at most that many requests in flight', async () => {
    const slow = await LlmTestServer.start({ delayMs: 100 });
    try {
      const limiter = new ProviderLimiter({ concurrency: 1 });
      const ids = ['a', 'b', 'c'];
      const ex = executor({ provider: { baseUrl: `${slow.url}/v1` }, limiter, ids });
      const results = await Promise.all(ids.map((id) => run(ex, step({ id, prompt: id }))));
      expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(slow.count()).toBe(3);
      expect(slow.maxInFlight).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('requests_per_minute spaces request starts', async () => {
    const limiter = new ProviderLimiter({ requestsPerMinute: 600 }); // one per 100 ms
    const ids = ['a', 'b', 'c'];
    const ex = executor({ limiter, ids });
    const started = Date.now();
    await Promise.all(ids.map((id) => run(ex, step({ id, prompt: id }))));
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });
});
