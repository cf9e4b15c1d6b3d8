// The three provider modules, through their real client packages, against the test server over real HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicProvider } from '../../../src/providers/anthropic.js';
import { createOllamaProvider } from '../../../src/providers/ollama.js';
import { createOpenAiProvider } from '../../../src/providers/openai.js';
import { ProviderError, retryAfterMs, type ChatAnswer, type Provider, type ProviderType } from '../../../src/providers/provider.js';
import { LlmTestServer, type Api } from '../../helpers/llm-test-server.js';

let server: LlmTestServer;
beforeAll(async () => {
  server = await LlmTestServer.start({ key: 'sk-unit-key' });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

function provider(type: ProviderType, o: { key?: string | null; url?: string } = {}): Provider {
  const base = o.url ?? server.url;
  const config = {
    name: `test-${type}`,
    type,
    baseUrl: type === 'openai' ? `${base}/v1` : base,
    ...(o.key === null ? {} : { apiKey: o.key ?? 'sk-unit-key' }),
    ...(type === 'anthropic' ? { maxTokens: 100 } : {}),
  };
  if (type === 'openai') return createOpenAiProvider(config);
  if (type === 'anthropic') return createAnthropicProvider(config);
  return createOllamaProvider(config);
}

/** The secret the test mask knows, as the job's redactor would know a key or a `secrets:` value. */
const SECRET = 'sk-secret-0123456789';
const maskSecret = (text: string) => text.split(SECRET).join('***');

async function chat(p: Provider, prompt = 'hello there', extra: { system?: string; signal?: AbortSignal; onData?: (t: string) => void } = {}): Promise<ChatAnswer> {
  return p.chat(
    { model: 'test-model', prompt, ...(extra.system ? { system: extra.system } : {}), ...(p.config.maxTokens ? { maxTokens: p.config.maxTokens } : {}) },
    { signal: extra.signal ?? new AbortController().signal, timeoutMs: 5000, onData: extra.onData ?? (() => {}), mask: maskSecret },
  );
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

const TYPES: Api[] = ['openai', 'anthropic', 'ollama'];

describe.each(TYPES)('%s', (type) => {
  it('streams an answer, with the system message, usage and a finish reason', async () => {
    const pieces: string[] = [];
    const a = await chat(provider(type), 'tell me about notes', { system: 'be brief', onData: (t) => pieces.push(t) });
    expect(a).toMatchObject({ text: 'answer to: tell me about notes', finish: 'stop', usage: { input_tokens: 6, output_tokens: 6 } });
    expect(pieces.join('')).toBe(a.text);
    expect(pieces.filter(Boolean).length).toBe(2);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ api: type, model: 'test-model', prompt: 'tell me about notes', system: 'be brief' });
  });

  it('sends exactly the body describe() reports', async () => {
    const p = provider(type);
    const req = { model: 'test-model', prompt: 'p', temperature: 0.5, maxTokens: 42 };
    await p.chat(req, { signal: new AbortController().signal, timeoutMs: 5000, onData: () => {}, mask: maskSecret });
    const { url, body } = p.describe(req);
    expect(url).toBe(`${server.url}${server.requests[0]!.path}`);
    expect(server.requests[0]!.body).toEqual(body);
  });

  it('429 with Retry-After is transient and carries the delay', async () => {
    server.script({ status: 429, retryAfter: '2', message: 'slow down' });
    const e = await failure(chat(provider(type)));
    expect(e).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2000 });
    expect(e.message).toContain('slow down');
  });

  it('500 is transient', async () => {
    server.script({ status: 500, message: 'boom' });
    const e = await failure(chat(provider(type)));
    expect(e).toMatchObject({ retryable: true, status: 500 });
    expect(e.message).toContain('boom');
  });

  it("401 is final, with the provider's message", async () => {
    const e = await failure(chat(provider(type, { key: 'sk-wrong' })));
    expect(e).toMatchObject({ retryable: false, status: 401 });
    expect(e.message).toMatch(type === 'anthropic' ? /invalid x-api-key/ : /Incorrect API key provided/);
    expect(server.count()).toBe(1);
  });

  it('400 and 403 are final', async () => {
    server.script({ status: 400, message: 'bad model' }, { status: 403, message: 'forbidden' });
    expect(await failure(chat(provider(type)))).toMatchObject({ retryable: false, status: 400 });
    expect(await failure(chat(provider(type)))).toMatchObject({ retryable: false, status: 403 });
  });

  it('a malformed stream is reported, not retried', async () => {
    server.script({ malformed: true });
    const e = await failure(chat(provider(type)));
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/malformed response/);
  });

  it.each([false, true])('a server that ignores stream: true and sends the whole answer as JSON (pretty: %s) is read', async (pretty) => {
    server.script({ whole: true, pretty });
    const pieces: string[] = [];
    const a = await chat(provider(type), 'tell me about notes', { onData: (t) => pieces.push(t) });
    expect(a).toMatchObject({ text: 'answer to: tell me about notes', finish: 'stop', usage: { input_tokens: 4, output_tokens: 6 } });
    expect(pieces.join('')).toBe(a.text);
    expect(server.requests[0]!.body.stream).toBe(true);
  });

  it('a body that is neither a stream nor an answer fails for good, saying what came back', async () => {
    const page = `<!DOCTYPE html><html><head><title>Sign in to the proxy</title></head><body>${'x'.repeat(300)}</body></html>`;
    server.script({ body: page, contentType: 'text/html; charset=utf-8' });
    const e = await failure(chat(provider(type)));
    expect(e.retryable).toBe(false);
    expect(e.message).toBe(
      `the server answered with neither a stream nor a complete answer: HTTP 200, content-type text/html; charset=utf-8, body ${JSON.stringify(page.slice(0, 200))} (its first 200 characters)`,
    );
  });

  it('a secret that the 200-character cut would go through is masked before the cut: not one character of it is quoted', async () => {
    const page = `<html>${'x'.repeat(190)}${SECRET}</html>`;
    server.script({ body: page, contentType: 'text/html' });
    const e = await failure(chat(provider(type)));
    expect(e.message).toContain(`body ${JSON.stringify(`<html>${'x'.repeat(190)}***<`)} (its first 200 characters)`);
    expect(e.message).not.toMatch(/"[^"]*x{190}s/);
  });

  it('JSON that is not an answer fails for good too', async () => {
    server.script({ body: '{"status": "queued"}', contentType: 'application/json' });
    const e = await failure(chat(provider(type)));
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/neither a stream nor a complete answer: HTTP 200, content-type application\/json, body "\{\\"status\\": \\"queued\\"\}"$/);
  });

  it('a truncated answer says so', async () => {
    server.script({ reply: 'cut sho', finish: 'length' });
    expect(await chat(provider(type))).toMatchObject({ text: 'cut sho', finish: 'length' });
  });

  it('a refused connection is a transient network error', async () => {
    const closed = await LlmTestServer.start();
    const url = closed.url;
    await closed.close();
    const e = await failure(chat(provider(type, { url })));
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/network error|connection/i);
    expect(e.message).toMatch(/ECONNREFUSED \(nothing is listening at that address: is the server running/);
  });

  it('stops when its signal aborts, even while the server stays silent', async () => {
    server.script({ hang: true });
    const controller = new AbortController();
    const pending = chat(provider(type), 'x', { signal: controller.signal }).catch((e: unknown) => e);
    while (server.count() === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await pending; // settles (a throw or an early return): nothing hangs
    expect(controller.signal.aborted).toBe(true);
  });
});

describe('refusals', () => {
  it.each(['openai', 'anthropic'] as const)('%s reports a refusal as such', async (type) => {
    server.script({ reply: 'I cannot help with that.', finish: 'refusal' });
    const a = await chat(provider(type));
    expect(a.finish).toBe('refusal');
    expect(a.refusal).toBe('I cannot help with that.');
  });
});

describe('keys', () => {
  it('a keyless OpenAI-compatible provider sends no Authorization header', async () => {
    const open = await LlmTestServer.start();
    try {
      await chat(provider('openai', { key: null, url: open.url }));
      expect(open.requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('sends the key the way each API wants it', async () => {
    for (const type of TYPES) await chat(provider(type));
    const sent = server.requests.map((r) => r.headers.authorization ?? (r.headers['x-api-key'] ? `x-api-key ${String(r.headers['x-api-key'])}` : undefined));
    expect(sent).toEqual(['Bearer sk-unit-key', expect.stringMatching(/^(Bearer|x-api-key) sk-unit-key$/), 'Bearer sk-unit-key']);
  });
});

describe('retryAfterMs', () => {
  const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null });
  it('reads seconds, HTTP dates and retry-after-ms', () => {
    expect(retryAfterMs(headers({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(headers({ 'retry-after': '1.5' }))).toBe(1500);
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), now)).toBe(7000);
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(headers({}))).toBeUndefined();
  });
});
