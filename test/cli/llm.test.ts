// Issue 5: prompt steps through the real client packages, against the test server (a real HTTP server on
// 127.0.0.1, started here), with the response cache. Black-box: the built binary, temp dirs, a scrubbed environment.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmTestServer } from '../helpers/llm-test-server.js';
import { alterInline, editIndexText } from '../helpers/cache-index.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/orchestrator.js');
/** A fake key: it must reach the server, and no file. */
const KEY = 'sk-test-SECRET-123';
const TOKEN = 'deploy-TOKEN-456';

let server: LlmTestServer;
let dir: string;
let runsDir: string;
/** The response cache's default folder: the user's cache folder, here inside the temp dir (XDG_CACHE_HOME). */
let cacheHome: string;

beforeAll(async () => {
  server = await LlmTestServer.start({
    key: KEY,
    reply: (r) => (r.prompt.includes('as JSON') ? JSON.stringify({ endpoints: ['/notes', '/notes/:id'] }) : `answer to: ${r.prompt}`),
  });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-llm-cli-'));
  runsDir = path.join(dir, 'runs');
  cacheHome = path.join(dir, '.cache', 'orchestrator');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** No provider keys from the machine running the tests: only what a test gives. */
const env = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH!, HOME: dir, XDG_CACHE_HOME: path.join(dir, '.cache'), NO_COLOR: '1', ORCH_RUNS_DIR: runsDir, TEST_LLM_KEY: KEY, DEPLOY_TOKEN: TOKEN, ...extra });

function cli(args: string[], o: { env?: Record<string, string>; node?: string[] } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Asynchronous: the test server lives in this process and must keep answering.
    const child = spawn(process.execPath, [...(o.node ?? []), BIN, ...args], { cwd: dir, env: env(o.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
function write(text: string, name = 'spec.yaml'): string {
  fs.writeFileSync(path.join(dir, name), text);
  return name;
}
function jobs(): string[] {
  return fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((n) => /^\d{8}-/.test(n)).sort() : [];
}
const latest = () => jobs().at(-1)!;
const manifest = (job = latest()) => JSON.parse(fs.readFileSync(path.join(runsDir, job, 'manifest.json'), 'utf8'));
const output = (step: string, job = latest()) => JSON.parse(fs.readFileSync(path.join(runsDir, job, 'outputs', `${step}.json`), 'utf8'));
const events = (job = latest()) => fs.readFileSync(path.join(runsDir, job, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const statuses = (m: { steps: Record<string, { status: string; cached: boolean }> }) => Object.fromEntries(Object.entries(m.steps).map(([k, s]) => [k, [s.status, s.cached]]));

/** Every file below a folder, for byte-level greps. */
function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out;
}

const provider = (extra = '') => `
providers:
  local:
    type: openai
    base_url: ${server.url}/v1
    api_key_env: TEST_LLM_KEY
    model: test-model
${extra}`;

const three = () => `
name: three-prompts
vars: { project: notes, topic: storage }
${provider('    concurrency: 2')}
steps:
  architect:
    prompt: "Design a \${{ vars.project }} API as JSON"
    output: json
    outputs_schema: { type: object, required: [endpoints] }
  docs:
    needs: [architect]
    prompt: "Document \${{ join(steps.architect.outputs.endpoints, ', ') }}"
  review:
    needs: [architect]
    system: be brief
    prompt: "Review the \${{ vars.topic }} design"
`;

describe('a pipeline of prompt steps', () => {
  it('runs; the second run makes zero requests; a changed prompt makes exactly one', async () => {
    write(three());
    const first = await cli(['run', 'spec.yaml']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(server.count()).toBe(3);
    const m1 = manifest();
    expect(statuses(m1)).toEqual({ architect: ['succeeded', false], docs: ['succeeded', false], review: ['succeeded', false] });
    expect(output('architect').outputs).toEqual({ endpoints: ['/notes', '/notes/:id'] });
    expect(output('docs').text).toBe('answer to: Document /notes, /notes/:id');
    expect(server.requests.find((r) => r.prompt.startsWith('Review'))).toMatchObject({ system: 'be brief', model: 'test-model' });
    // Token usage per step and summed per job.
    const usage = ['architect', 'docs', 'review'].map((s) => m1.steps[s].usage);
    expect(usage.every((u) => u.input_tokens > 0 && u.output_tokens > 0)).toBe(true);
    expect(m1.usage).toEqual({ input_tokens: usage.reduce((n, u) => n + u.input_tokens, 0), output_tokens: usage.reduce((n, u) => n + u.output_tokens, 0) });
    expect(output('review').usage).toEqual(m1.steps.review.usage);
    const log = fs.readFileSync(path.join(runsDir, latest(), 'logs', 'architect.log'), 'utf8');
    expect(log).toContain(`POST ${server.url}/v1/chat/completions`);
    expect(log).toContain('Design a notes API as JSON');
    expect(log).toContain('{"endpoints":["/notes","/notes/:id"]}');

    const second = await cli(['run', 'spec.yaml']);
    expect(second.code).toBe(0);
    expect(server.count()).toBe(3);
    const m2 = manifest();
    expect(statuses(m2)).toEqual({ architect: ['succeeded', true], docs: ['succeeded', true], review: ['succeeded', true] });
    expect(output('architect')).toMatchObject({ cached: true, outputs: { endpoints: ['/notes', '/notes/:id'] } });
    expect(m2.usage).toBeUndefined(); // nothing spent

    const third = await cli(['run', 'spec.yaml', '--var', 'topic=search']);
    expect(third.code).toBe(0);
    expect(server.count()).toBe(4);
    expect(server.requests[3]!.prompt).toBe('Review the search design');
    expect(statuses(manifest())).toEqual({ architect: ['succeeded', true], docs: ['succeeded', true], review: ['succeeded', false] });

    // show --json explains the miss: the key and what it was made of.
    const shown = await cli(['show', 'latest', '--json']);
    const steps = JSON.parse(shown.stdout).steps;
    expect(steps.review.cache_key).toMatch(/^[0-9a-f]{64}$/);
    expect(steps.review.cache_key).not.toBe(m2.steps.review.cache_key);
    expect(steps.review.cache_key_parts).toEqual({
      format: 1,
      provider: 'openai',
      base_url: `${server.url}/v1`,
      model: 'test-model',
      system: 'be brief',
      prompt: 'Review the search design',
      temperature: null,
      max_tokens: null,
    });
    expect(steps.architect.cache_key).toBe(m2.steps.architect.cache_key);
  });

  it('--offline answers from the cache and fails a miss; --no-cache asks again', async () => {
    write(three());
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    const offline = await cli(['run', 'spec.yaml', '--offline', '--var', 'topic=new'], { env: { TEST_LLM_KEY: '' } });
    expect(offline.code).toBe(1);
    expect(server.count()).toBe(3);
    const m = manifest();
    expect(statuses(m)).toEqual({ architect: ['succeeded', true], docs: ['succeeded', true], review: ['failed', false] });
    expect(m.steps.review.error.code).toBe('provider');
    expect(m.steps.review.error.message).toMatch(/--offline/);
    expect(m.steps.review.attempts).toBe(1);

    expect((await cli(['run', 'spec.yaml', '--no-cache'])).code).toBe(0);
    expect(server.count()).toBe(6);
    expect((await cli(['run', 'spec.yaml', '--offline', '--no-cache'])).code).toBe(2);
  });
});

describe('faults', () => {
  const one = (extra: string) => `${provider()}
steps:
  ask:
    prompt: hello
${extra}`;

  it('429 then 200 succeeds, after the delay Retry-After asked for', async () => {
    write(one('    retry: { attempts: 3, delay: 10ms }'));
    server.script({ status: 429, retryAfter: '1', message: 'Rate limit reached' });
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code).toBe(0);
    expect(server.count()).toBe(2);
    expect(manifest().steps.ask).toMatchObject({ status: 'succeeded', attempts: 2 });
    const retrying = events().filter((e) => e.type === 'step.retrying');
    expect(retrying).toHaveLength(1);
    expect(retrying[0]).toMatchObject({ attempt: 2, delay_s: 1, error: { code: 'provider' } });
    expect(retrying[0].error.message).toMatch(/HTTP 429: Rate limit reached/);
  });

  it('the log in a step\'s final event is the file as written: after a retry appended to it, on a hit, on a failure', async () => {
    const logRecord = () => {
      const final = events().find((e) => e.step === 'ask' && (e.type === 'step.succeeded' || e.type === 'step.failed'));
      const bytes = fs.readFileSync(path.join(runsDir, latest(), 'logs', 'ask.log'));
      expect(final.files.filter((f: { path: string }) => f.path === 'logs/ask.log')).toEqual([{ path: 'logs/ask.log', sha256: createHash('sha256').update(bytes).digest('hex'), size_bytes: bytes.length }]);
      return bytes.toString('utf8');
    };
    write(one('    retry: { attempts: 3, delay: 10ms }'));
    server.script({ status: 500 });
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    expect(logRecord()).toContain('--- request (attempt 2)');
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    expect(logRecord()).toContain('--- cache hit');
    write(one('    retry: { attempts: 1 }\n    cache: false'));
    server.script({ status: 500 });
    expect((await cli(['run', 'spec.yaml'])).code).toBe(1);
    expect(logRecord()).toContain('--- failed');
  });

  it('401 fails after exactly one request, with the provider\'s message', async () => {
    write(one('')); // the default LLM retry (4 attempts) must not apply to a 401
    const r = await cli(['run', 'spec.yaml'], { env: { TEST_LLM_KEY: 'sk-wrong' } });
    expect(r.code).toBe(1);
    expect(server.count()).toBe(1);
    const step = manifest().steps.ask;
    expect(step).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'provider' } });
    expect(step.error.message).toBe('provider "local": HTTP 401: Incorrect API key provided');
  });

  it('500 is retried; a silent server fails by timeout', async () => {
    write(one('    timeout: 1s\n    retry: { attempts: 2, delay: 10ms }'));
    server.script({ status: 500 }, { hang: true });
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code).toBe(1);
    expect(server.count()).toBe(2);
    const step = manifest().steps.ask;
    expect(step).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'timeout', message: 'no complete answer within 1.0s' } });
    expect(step.duration_s).toBeLessThan(10);
  });

  it("a provider's timeout wins over defaults: timeout (written for shell steps); a step's own wins over both; show says which", async () => {
    write(`${provider('    timeout: 1s\n')}defaults:\n  timeout: 10m\nsteps:\n  ask:\n    prompt: hello\n    retry: { attempts: 1 }\n  own:\n    prompt: hi\n    timeout: 2s\n    retry: { attempts: 1 }\n`);
    server.script({ hang: true }, { hang: true });
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code).toBe(1);
    const steps = manifest().steps;
    expect(steps.ask.error).toEqual({ code: 'timeout', message: 'no complete answer within 1.0s' });
    expect(steps.own.error).toEqual({ code: 'timeout', message: 'no complete answer within 2.0s' });
    const show = (await cli(['show', 'latest'])).stdout;
    expect(show).toMatch(/^ask +failed +1 +\S+ +1\.0s /m);
    expect(show).toMatch(/^own +failed +1 +\S+ +2\.0s /m);
  });

  it('malformed JSON fails after one request', async () => {
    write(one(''));
    server.script({ malformed: true });
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code).toBe(1);
    expect(server.count()).toBe(1);
    expect(manifest().steps.ask.error).toMatchObject({ code: 'provider', message: expect.stringMatching(/malformed response/) });
  });

  it('a server that ignores stream: true is answered from its plain JSON, in one request', async () => {
    write(one(''));
    server.script({ whole: true });
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.count()).toBe(1);
    expect(output('ask')).toMatchObject({ status: 'succeeded', text: 'answer to: hello', attempts: 1 });
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    expect(server.count()).toBe(1); // a complete answer, so cached
  });

  it('a body that is neither a stream nor an answer fails once, quoting it with secrets masked', async () => {
    write(one('')); // the default LLM retry (4 attempts) must not apply
    server.script({ body: `<html><body>Proxy login required for key ${KEY}</body></html>`, contentType: 'text/html' });
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code).toBe(1);
    expect(server.count()).toBe(1);
    const step = manifest().steps.ask;
    expect(step).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'provider' } });
    expect(step.error.message).toBe(
      'provider "local": the server answered with neither a stream nor a complete answer: HTTP 200, content-type text/html, body "<html><body>Proxy login required for key ***</body></html>"',
    );
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('a key that the quote\'s 200-character cut goes through is masked before the cut: no character of it is quoted', async () => {
    write(one(''));
    const head = '<html>'.padEnd(200 - 3, '.'); // the key starts 3 characters before the cut
    server.script({ body: `${head}${KEY}</html>`, contentType: 'text/html' });
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code).toBe(1);
    expect(manifest().steps.ask.error.message).toMatch(new RegExp(`body "${head}\\*\\*\\*" \\(its first 200 characters\\)$`));
    const written = [r.stdout, r.stderr, fs.readFileSync(path.join(runsDir, latest(), 'events.jsonl'), 'utf8'), fs.readFileSync(path.join(runsDir, latest(), 'manifest.json'), 'utf8')].join('\n');
    expect(written).not.toContain(KEY.slice(0, 3));
  });

  it('idle_timeout: a stream that goes quiet', async () => {
    write(one('    idle_timeout: 300ms\n    retry: 1'));
    server.script({ stall: true });
    expect((await cli(['run', 'spec.yaml'])).code).toBe(1);
    expect(manifest().steps.ask.error.code).toBe('idle-timeout');
  });
});

describe('configuration problems are reported before anything runs', () => {
  it('a missing key, an unknown provider and a missing model: exit 2, every problem, no run folder, no request', async () => {
    write(`
providers:
  local: { type: openai, base_url: "${server.url}/v1", api_key_env: TEST_LLM_KEY, model: m }
  cloud: { type: anthropic, base_url: "${server.url}" }
steps:
  a: { prompt: hi, provider: local }
  b: { prompt: hi, provider: nowhere }
  c: { prompt: hi, provider: cloud }
`);
    const r = await cli(['run', 'spec.yaml'], { env: { TEST_LLM_KEY: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/spec\.yaml:3:\d+: providers\.local: \$TEST_LLM_KEY is not set/);
    expect(r.stderr).toMatch(/spec\.yaml:4:\d+: providers\.cloud: \$ANTHROPIC_API_KEY is not set/);
    expect(r.stderr).toMatch(/spec\.yaml:7:\d+: steps\.b\.provider: unknown provider "nowhere"/);
    expect(r.stderr).toMatch(/spec\.yaml:8:\d+: steps\.c: no model/);
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(fs.existsSync(runsDir)).toBe(false);
    expect(server.count()).toBe(0);
    // validate reports the same problems but the keys, which a check (a CI gate without secrets) need not have.
    const v = await cli(['validate', 'spec.yaml'], { env: { TEST_LLM_KEY: '' } });
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/spec\.yaml:7:\d+: steps\.b\.provider: unknown provider "nowhere"/);
    expect(v.stderr).toMatch(/spec\.yaml:8:\d+: steps\.c: no model/);
    expect(v.stderr).not.toMatch(/is not set/);
    write(`providers:\n  local: { type: openai, base_url: "not a url", model: m }\nsteps:\n  a: { prompt: hi }\n`);
    expect((await cli(['validate', 'spec.yaml'])).stderr).toMatch(/spec\.yaml:2:\d+: providers\.local\.base_url: "not a url" is not an http\(s\) URL/);
    // A key no HTTP header can carry is said before the run, naming its variable (never its value).
    write(`providers:\n  local: { type: openai, base_url: "${server.url}/v1", api_key_env: TEST_LLM_KEY, model: m }\nsteps:\n  a: { prompt: hi }\n`);
    const odd = await cli(['run', 'spec.yaml'], { env: { TEST_LLM_KEY: 'sk-secret-é€-999' } });
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/providers\.local: \$TEST_LLM_KEY holds a character an HTTP header cannot carry \(at position 11\)/);
    expect(odd.stderr).not.toContain('secret');
    expect(server.count()).toBe(0);
  });

  it('validate lists a provider problem along with the spec\'s other problems, not once they are fixed', async () => {
    // Before, an unknown key hid the unknown provider and the bad base_url: each came out only once the one
    // before it was fixed.
    write('providers:\n  fake: { type: openai, base_url: "ftp://x/v1", model: m1 }\nsteps:\n  a: { prompt: x, provider: nosuch }\n  c: { prompt: x, promt_typo: 1 }\n');
    const v = await cli(['validate', 'spec.yaml']);
    expect(v.code).toBe(2);
    expect(v.stderr.split('\n').filter((l) => l.startsWith('spec.yaml:'))).toEqual([
      'spec.yaml:2:35: providers.fake.base_url: "ftp://x/v1" is not an http(s) URL',
      'spec.yaml:4:29: steps.a.provider: unknown provider "nosuch"; declared: fake',
      'spec.yaml:5:19: steps.c: unknown key "promt_typo"',
    ]);
  });

  it('$ORCH_PROVIDER picks a type with its usual environment', async () => {
    write('steps: { ask: { prompt: hello, model: env-model } }');
    const r = await cli(['run', 'spec.yaml'], { env: { ORCH_PROVIDER: 'openai', OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: KEY } });
    expect(r.code).toBe(0);
    expect(server.requests[0]).toMatchObject({ model: 'env-model', prompt: 'hello' });
  });
});

describe('anthropic and ollama', () => {
  it('both answer through their own APIs, and are cached like the rest', async () => {
    write(`
providers:
  claude: { type: anthropic, base_url: "${server.url}", api_key_env: TEST_LLM_KEY, model: claude-test, max_tokens: 64 }
  llama: { type: ollama, base_url: "${server.url}", api_key_env: TEST_LLM_KEY, model: llama-test, temperature: 0 }
steps:
  a: { prompt: "from claude", provider: claude, system: terse }
  b: { prompt: "from llama", provider: llama }
`);
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    expect(server.requests.map((r) => [r.api, r.model, r.prompt]).sort()).toEqual([
      ['anthropic', 'claude-test', 'from claude'],
      ['ollama', 'llama-test', 'from llama'],
    ]);
    expect(server.requests.find((r) => r.api === 'anthropic')!.body).toMatchObject({ max_tokens: 64, system: 'terse', stream: true });
    expect(server.requests.find((r) => r.api === 'ollama')!.body).toMatchObject({ options: { temperature: 0 }, stream: true });
    expect(output('a').text).toBe('answer to: from claude');
    expect(output('b').text).toBe('answer to: from llama');
    expect(manifest().steps.b.usage).toEqual({ input_tokens: 2, output_tokens: 4 });
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    expect(server.count()).toBe(2);
  });
});

describe('mlx (mlx_lm.server)', () => {
  // A keyless server, as mlx_lm.server is: a request carrying any key would still pass, so the test checks the header.
  let mlx: LlmTestServer;
  beforeAll(async () => {
    mlx = await LlmTestServer.start({});
  });
  afterAll(() => mlx.close());
  beforeEach(() => mlx.reset());

  it('type: mlx asks {base_url}/chat/completions with no key, and caches the answer under its own type', async () => {
    write(`
providers:
  mac: { type: mlx, base_url: "${mlx.url}/v1", model: mlx-community/Llama-3.2-3B-Instruct-4bit }
steps:
  ask: { prompt: "hello from a Mac" }
`);
    const first = await cli(['run', 'spec.yaml'], { env: { TEST_LLM_KEY: '' } });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(mlx.requests).toHaveLength(1);
    expect(mlx.requests[0]).toMatchObject({ api: 'openai', path: '/v1/chat/completions', model: 'mlx-community/Llama-3.2-3B-Instruct-4bit', prompt: 'hello from a Mac' });
    expect(mlx.requests[0]!.headers.authorization).toBeUndefined();
    expect(output('ask').text).toBe('answer to: hello from a Mac');
    expect(fs.readFileSync(path.join(runsDir, latest(), 'logs', 'ask.log'), 'utf8')).toContain(`POST ${mlx.url}/v1/chat/completions`);
    expect(manifest().steps.ask.cache_key_parts).toMatchObject({ provider: 'mlx', base_url: `${mlx.url}/v1` });

    const second = await cli(['run', 'spec.yaml'], { env: { TEST_LLM_KEY: '' } });
    expect(second.code).toBe(0);
    expect(mlx.count()).toBe(1);
    expect(statuses(manifest())).toEqual({ ask: ['succeeded', true] });
  });

  it('$ORCH_PROVIDER=mlx with $MLX_BASE_URL, no key in the environment', async () => {
    write('steps: { ask: { prompt: hello, model: local-model } }');
    const r = await cli(['run', 'spec.yaml'], { env: { ORCH_PROVIDER: 'mlx', MLX_BASE_URL: `${mlx.url}/v1`, TEST_LLM_KEY: '' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(mlx.requests).toHaveLength(1);
    expect(mlx.requests[0]).toMatchObject({ path: '/v1/chat/completions', model: 'local-model', prompt: 'hello' });
    expect(mlx.requests[0]!.headers.authorization).toBeUndefined();
    expect(manifest().steps.ask.cache_key_parts).toMatchObject({ provider: 'mlx', base_url: `${mlx.url}/v1` });
  });
});

describe('secrets', () => {
  it('no key or secret value appears in any file of the run folders or the cache', async () => {
    write(`
secrets: [DEPLOY_TOKEN]
${provider()}
steps:
  shell:
    run: 'echo "key=$TEST_LLM_KEY token=$DEPLOY_TOKEN"; echo "err $TEST_LLM_KEY" >&2'
  echo_key:
    prompt: "repeat \${{ env.TEST_LLM_KEY }} and \${{ env.DEPLOY_TOKEN }}"
  rejected:
    needs: [echo_key]
    prompt: "something else"
    retry: 1
`);
    // echo_key gets its answer (the key and token repeated), then a provider that echoes the key in an error.
    server.script({ reply: `answer to: repeat ${KEY} and ${TOKEN}` }, { status: 401, message: `Incorrect API key provided: ${KEY}` });
    const r = await cli(['run', 'spec.yaml', '--json']);
    expect(r.code).toBe(1);
    await cli(['run', 'spec.yaml']); // and once more from the cache
    expect(server.count()).toBe(3);
    expect(server.requests.every((q) => q.headers.authorization === `Bearer ${KEY}`)).toBe(true); // it was really sent

    const all = [...files(runsDir), ...files(cacheHome)];
    expect(files(cacheHome).length).toBeGreaterThan(0);
    for (const file of all) {
      const bytes = fs.readFileSync(file);
      expect(bytes.includes(KEY), file).toBe(false);
      expect(bytes.includes(TOKEN), file).toBe(false);
    }
    expect(r.stdout).not.toContain(KEY);
    const outputs = fs.readFileSync(path.join(runsDir, jobs()[0]!, 'outputs', 'echo_key.json'), 'utf8');
    expect(outputs).toContain('answer to: repeat *** and ***');
    expect(manifest(jobs()[0]).steps.rejected.error.message).toBe('provider "local": HTTP 401: Incorrect API key provided: ***');
  });
});

describe('the response cache', () => {
  it('an entry that fails its integrity check is reported and asked again', async () => {
    write(`${provider()}\nsteps: { ask: { prompt: hello } }\n`);
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    expect(alterInline(cacheHome, 'answer to: hello', 'answer to: tampered')).toBe(1); // its line's own SHA-1 made again
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: step "ask": cache entry [0-9a-f]{12}… failed its integrity check: .*; treated as a miss$/m);
    expect(server.count()).toBe(2);
    expect(output('ask')).toMatchObject({ text: 'answer to: hello', cached: false });
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    expect(server.count()).toBe(2);
  });

  it('an index line that fails its own SHA-1 (edited by hand, cut by a crash) is reported too, then asked again', async () => {
    write(`${provider()}\nsteps: { ask: { prompt: hello } }\n`);
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    // Before, such a line was skipped without a word: a miss, or under --offline a failure, with nothing said.
    expect(editIndexText(cacheHome, '"model":"test-model"', '"model":"other-model"')).toBe(1);
    const offline = await cli(['run', 'spec.yaml', '--offline']);
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/^warning: step "ask": cache entry [0-9a-f]{12}… failed its integrity check: its index line does not match its own SHA-1 \(edited, or cut short by a crash\); treated as a miss$/m);
    const r = await cli(['run', 'spec.yaml']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/warning/); // removed when it was reported
    expect(server.count()).toBe(2);
    expect((await cli(['run', 'spec.yaml', '--offline'])).code).toBe(0);
  });

  it('is shared by runs that write at once; --cache-dir and $ORCH_CACHE_DIR move it; stats and clear', async () => {
    write(three());
    const cacheDir = path.join(dir, 'shared-cache');
    const both = await Promise.all([cli(['run', 'spec.yaml', '--cache-dir', cacheDir]), cli(['run', 'spec.yaml'], { env: { ORCH_CACHE_DIR: cacheDir } })]);
    expect(both.map((r) => r.code)).toEqual([0, 0]);
    expect(fs.existsSync(cacheHome)).toBe(false);
    const asked = server.count();
    expect(asked).toBeGreaterThanOrEqual(3);
    expect((await cli(['run', 'spec.yaml', '--cache-dir', cacheDir])).code).toBe(0);
    expect(server.count()).toBe(asked);

    const stats = JSON.parse((await cli(['cache', 'stats', '--json'], { env: { ORCH_CACHE_DIR: cacheDir } })).stdout);
    expect(stats).toMatchObject({ dir: cacheDir, entries: 3, by_model: { 'openai/test-model': 3 } });
    expect(stats.size_bytes).toBeGreaterThan(0);
    const plain = await cli(['cache', 'stats', '--cache-dir', cacheDir]);
    expect(plain.stdout).toMatch(/3 prompt answers, 0 step entries/);
    const cleared = await cli(['cache', 'clear', '--cache-dir', cacheDir]);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toMatch(/^removed 3 prompt answers, 0 step entries and 0 blobs \(.+\) from /);
    expect(JSON.parse((await cli(['cache', 'stats', '--json', '--cache-dir', cacheDir])).stdout).entries).toBe(0);
    expect((await cli(['cache', 'nonsense'])).code).toBe(2);
  });

  it('lives in the user cache folder ($XDG_CACHE_HOME, else ~/.cache); an old <runs-dir>/.cache is named, not read', async () => {
    write(`${provider()}\nsteps: { ask: { prompt: hello } }\n`);
    expect((await cli(['run', 'spec.yaml'])).code).toBe(0);
    expect(files(cacheHome).length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(runsDir, '.cache'))).toBe(false);
    const home = path.join(dir, 'home');
    expect(JSON.parse((await cli(['cache', 'stats', '--json'], { env: { HOME: home, XDG_CACHE_HOME: '' } })).stdout).dir).toBe(path.join(home, '.cache', 'orchestrator'));

    // What an older version left: the cache inside the runs folder.
    fs.renameSync(cacheHome, path.join(runsDir, '.cache'));
    const stats = await cli(['cache', 'stats']);
    expect(stats.stdout).toMatch(/^cache .*: empty$/m);
    expect(stats.stdout).toMatch(/^note: .*runs\/\.cache is the response cache of an older version and is no longer read \(the cache is now .*\.cache\/orchestrator\)/m);
    expect(JSON.parse((await cli(['cache', 'stats', '--json'])).stdout).notices).toEqual([{ code: 'old-cache', message: expect.stringContaining('no longer read') }]);
    const again = await cli(['run', 'spec.yaml']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^warning: .*runs\/\.cache is the response cache of an older version/m);
    expect(server.count()).toBe(2); // not read: asked again
    const old = await cli(['run', 'spec.yaml', '--cache-dir', path.join(runsDir, '.cache')]);
    expect(old.stderr).not.toContain('older version');
    expect(server.count()).toBe(2); // read when named
  });

  it('per-step cache: false always asks', async () => {
    write(`${provider()}\nsteps: { ask: { prompt: hello, cache: false } }\n`);
    await cli(['run', 'spec.yaml']);
    await cli(['run', 'spec.yaml']);
    expect(server.count()).toBe(2);
    expect(fs.existsSync(cacheHome)).toBe(false);
  });
});

describe('examples/llm_spec.yaml', () => {
  it('runs green against a keyless OpenAI-compatible server (the test server standing in for Ollama)', async () => {
    const ollama = await LlmTestServer.start({
      reply: (r) =>
        r.prompt.includes('one JSON object')
          ? JSON.stringify({ service: 'notes', endpoints: [{ method: 'GET', path: '/notes', summary: 'list' }] })
          : `- [ ] ${r.prompt.slice(0, 40)}`,
    });
    try {
      const example = fs.readFileSync(path.resolve(path.dirname(BIN), '../examples/llm_spec.yaml'), 'utf8');
      expect(example).toContain('base_url: http://127.0.0.1:11434/v1');
      write(example.replace('http://127.0.0.1:11434/v1', `${ollama.url}/v1`), 'llm_spec.yaml');
      const r = await cli(['run', 'llm_spec.yaml']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(ollama.count()).toBe(3);
      expect(ollama.requests.every((q) => q.headers.authorization === undefined && q.model === 'llama3.2')).toBe(true);
      const artifacts = path.join(runsDir, latest(), 'artifacts', 'save');
      expect(fs.readdirSync(artifacts).sort()).toEqual(['API.md', 'TESTS.md']);
      expect((await cli(['run', 'llm_spec.yaml', '--var', 'audience=ops'])).code).toBe(0);
      expect(ollama.count()).toBe(5); // architect from the cache; docs and test_plan changed
    } finally {
      await ollama.close();
    }
  });
});

describe('start-up', () => {
  it('loads a client package only for the provider types a spec uses, and none for a shell-only spec', async () => {
    // The CLI is CommonJS (dist/cli/*.cjs) and requires client packages lazily: at exit, list those in require.cache.
    const loaded = path.join(dir, 'loaded.txt');
    fs.writeFileSync(
      path.join(dir, 'record-loaded.cjs'),
      `process.on('exit', () => {
  // cacache comes bundled apart by the build (dist/store/cacache-lib.cjs).
  const names = Object.keys(require.cache).map((f) => /node_modules\\/(openai|@anthropic-ai\\/sdk|ollama)\\//.exec(f)?.[1] ?? (/dist\\/store\\/cacache-lib\\.cjs$/.test(f) ? 'cacache' : undefined)).filter(Boolean);
  if (names.length > 0) require('node:fs').appendFileSync(${JSON.stringify(loaded)}, names.join('\\n') + '\\n');
});
`,
    );
    const node = ['--require', path.join(dir, 'record-loaded.cjs')];
    write('steps: { a: { run: "echo hi" } }', 'shell.yaml');
    const shell = await cli(['run', 'shell.yaml'], { node });
    expect(shell.code, shell.stdout + shell.stderr).toBe(0);
    expect(fs.existsSync(loaded)).toBe(false);
    write(`${provider()}\nsteps: { ask: { prompt: hello } }\n`);
    const withLlm = await cli(['run', 'spec.yaml'], { node });
    expect(withLlm.code, withLlm.stdout + withLlm.stderr).toBe(0);
    // cacache too is loaded only when needed (cache stats, prune, a damaged entry): answers are read and written without it.
    expect([...new Set(fs.readFileSync(loaded, 'utf8').trim().split('\n'))].sort()).toEqual(['openai']);
  });
});
