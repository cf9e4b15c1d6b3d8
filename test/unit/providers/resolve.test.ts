// Which provider each prompt step uses (SPEC §5), and every configuration problem reported before anything runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchestratorError } from '../../../src/errors.js';
import { resolveProviders } from '../../../src/providers/resolve.js';
import { parseSpec } from '../../../src/specfile/validate.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-resolve-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function spec(text: string) {
  const file = path.join(dir, 'spec.yaml');
  fs.writeFileSync(file, text);
  return parseSpec(file);
}

function problems(text: string, env: NodeJS.ProcessEnv = {}, offline = false): string[] {
  try {
    resolveProviders(spec(text), { env, offline });
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    expect(e.diagnostics.every((d) => d.code === 'provider-config')).toBe(true);
    return e.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
  }
  return [];
}

describe('resolveProviders', () => {
  it("uses the step's provider, with the provider's settings and the key from api_key_env", () => {
    const plan = resolveProviders(
      spec(`
providers:
  local: { type: openai, base_url: "http://127.0.0.1:9/v1/", model: m1, api_key_env: MY_KEY, timeout: 5s, concurrency: 2 }
  cloud: { type: anthropic, model: claude }
steps:
  a: { prompt: hi, provider: local }
  b: { prompt: hi, provider: cloud }
  c: { run: echo }
`),
      { env: { MY_KEY: 'k1', ANTHROPIC_API_KEY: 'k2' }, offline: false },
    );
    expect(plan.stepProvider).toEqual(new Map([['a', 'local'], ['b', 'cloud']]));
    expect(plan.providers.get('local')).toMatchObject({ type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k1', apiKeyEnv: 'MY_KEY', model: 'm1', timeoutMs: 5000, concurrency: 2 });
    expect(plan.providers.get('cloud')).toMatchObject({ type: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: 'k2', maxTokens: 4096 });
    expect(plan.secretNames).toEqual(expect.arrayContaining(['MY_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY']));
  });

  it('uses the only declared provider when a step names none', () => {
    const plan = resolveProviders(spec(`
providers: { only: { type: ollama, model: llama3.2 } }
steps: { a: { prompt: hi } }
`), { env: {}, offline: false });
    expect(plan.providers.get('only')).toMatchObject({ type: 'ollama', baseUrl: 'http://127.0.0.1:11434' });
    expect(plan.providers.get('only')!.apiKey).toBeUndefined();
  });

  it('a keyless OpenAI-compatible server (base_url set, no api_key_env) needs no key', () => {
    expect(problems(`
providers: { local: { type: openai, base_url: "http://127.0.0.1:11434/v1", model: m } }
steps: { a: { prompt: hi } }
`)).toEqual([]);
  });

  it('$ORCH_PROVIDER: a declared name, or a type with its usual environment', () => {
    const two = `
providers:
  x: { type: openai, base_url: "http://h/v1", model: m }
  y: { type: ollama, model: m }
steps: { a: { prompt: hi } }
`;
    expect(resolveProviders(spec(two), { env: { ORCH_PROVIDER: 'y' }, offline: false }).stepProvider.get('a')).toBe('y');
    const plan = resolveProviders(spec('steps: { a: { prompt: hi, model: gpt-x } }'), { env: { ORCH_PROVIDER: 'openai', OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }, offline: false });
    expect(plan.providers.get('openai')).toMatchObject({ type: 'openai', baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'k', apiKeyEnv: 'OPENAI_API_KEY' });
    const ollama = resolveProviders(spec('steps: { a: { prompt: hi, model: m } }'), { env: { ORCH_PROVIDER: 'ollama', OLLAMA_HOST: '10.0.0.5' }, offline: false });
    expect(ollama.providers.get('ollama')!.baseUrl).toBe('http://10.0.0.5:11434');
  });

  it('mlx: mlx_lm.server at its default address, no key needed; api_key_env still sends one', () => {
    const plan = resolveProviders(spec(`
providers: { mac: { type: mlx, model: mlx-community/Llama-3.2-3B-Instruct-4bit } }
steps: { a: { prompt: hi } }
`), { env: { OPENAI_API_KEY: 'not-for-mlx' }, offline: false });
    expect(plan.providers.get('mac')).toMatchObject({ type: 'mlx', baseUrl: 'http://127.0.0.1:8080/v1' });
    expect(plan.providers.get('mac')!.apiKey).toBeUndefined();
    const keyed = resolveProviders(spec(`
providers: { mac: { type: mlx, model: m, api_key_env: MLX_KEY, base_url: "http://10.0.0.7:9000/v1" } }
steps: { a: { prompt: hi } }
`), { env: { MLX_KEY: 'k' }, offline: false });
    expect(keyed.providers.get('mac')).toMatchObject({ baseUrl: 'http://10.0.0.7:9000/v1', apiKey: 'k', apiKeyEnv: 'MLX_KEY' });
    expect(keyed.secretNames).toContain('MLX_KEY');
    expect(problems('providers: { mac: { type: mlx, model: m, api_key_env: MLX_KEY } }\nsteps: { a: { prompt: hi } }')).toEqual([
      '1:55: providers.mac: $MLX_KEY is not set: export the API key there',
    ]);
  });

  it('$ORCH_PROVIDER=mlx: the default address, or $MLX_BASE_URL; never a key', () => {
    const text = 'steps: { a: { prompt: hi, model: m } }';
    const plain = resolveProviders(spec(text), { env: { ORCH_PROVIDER: 'mlx', OPENAI_API_KEY: 'not-for-mlx' }, offline: false });
    expect(plain.stepProvider.get('a')).toBe('mlx');
    expect(plain.providers.get('mlx')).toEqual({ name: 'mlx', type: 'mlx', baseUrl: 'http://127.0.0.1:8080/v1' });
    const moved = resolveProviders(spec(text), { env: { ORCH_PROVIDER: 'mlx', MLX_BASE_URL: 'http://127.0.0.1:9090/v1/' }, offline: false });
    expect(moved.providers.get('mlx')!.baseUrl).toBe('http://127.0.0.1:9090/v1');
    expect(problems(text, { ORCH_PROVIDER: 'mlx', MLX_BASE_URL: 'localhost:8080' })).toEqual([
      '1:13: $ORCH_PROVIDER=mlx: "localhost:8080" (from the environment) is not an http(s) URL',
    ]);
  });

  it('reports every problem at once, each with its place in the spec', () => {
    const found = problems(`
providers:
  local: { type: openai, model: m, api_key_env: LOCAL_KEY }
  cloud: { type: anthropic }
steps:
  a: { prompt: hi, provider: locl }
  b: { prompt: hi, provider: local }
  c: { prompt: hi, provider: cloud }
  d: { prompt: hi }
`);
    expect(found).toEqual([
      '3:49: providers.local: $LOCAL_KEY is not set: export the API key there',
      '4:10: providers.cloud: $ANTHROPIC_API_KEY is not set (no `api_key_env`, so the usual variable for anthropic): export the API key there',
      '6:30: steps.a.provider: unknown provider "locl"; declared: local, cloud (did you mean "local"?)',
      '8:6: steps.c: no model: set `model:` on the step, in `defaults:`, or on provider "cloud"',
      '9:6: steps.d: no provider: the spec declares 2 (local, cloud); name one with `provider:` or set $ORCH_PROVIDER',
    ]);
  });

  it('OpenAI itself (no base_url) needs OPENAI_API_KEY', () => {
    expect(problems('providers: { o: { type: openai, model: m } }\nsteps: { a: { prompt: hi } }')).toEqual([
      '1:17: providers.o: $OPENAI_API_KEY is not set (no `api_key_env`, so the usual variable for openai): export the API key there',
    ]);
  });

  it('no provider at all, or an unknown $ORCH_PROVIDER', () => {
    expect(problems('steps: { a: { prompt: hi, model: m } }')).toEqual([
      '1:13: steps.a: no provider: declare one under `providers:`, or set $ORCH_PROVIDER to openai, anthropic, ollama or mlx',
    ]);
    expect(problems('steps: { a: { prompt: hi, model: m } }', { ORCH_PROVIDER: 'gemini' })).toEqual([
      '1:13: $ORCH_PROVIDER is "gemini": neither a provider of this spec nor one of openai, anthropic, ollama, mlx',
    ]);
    expect(problems('steps: { a: { prompt: hi, model: m } }', { ORCH_PROVIDER: 'anthropic' })).toEqual(['1:13: $ORCH_PROVIDER=anthropic: $ANTHROPIC_API_KEY is not set: export the API key there']);
  });

  it('an empty key variable counts as missing; --offline needs no key', () => {
    const text = 'providers: { c: { type: anthropic, model: m } }\nsteps: { a: { prompt: hi } }';
    expect(problems(text, { ANTHROPIC_API_KEY: '' })).toHaveLength(1);
    expect(problems(text, {}, true)).toEqual([]);
  });

  it('a base_url that is not http(s)', () => {
    expect(problems('providers: { c: { type: ollama, model: m, base_url: "ftp://x" } }\nsteps: { a: { prompt: hi } }')).toEqual([
      '1:53: providers.c.base_url: "ftp://x" is not an http(s) URL',
    ]);
  });
});
