// A TEST DOUBLE: a real HTTP server on 127.0.0.1 that speaks the three chat APIs the orchestrator uses —
// OpenAI's /v1/chat/completions, Anthropic's /v1/messages and Ollama's /api/chat — streamed (SSE / NDJSON) or
// not, with scripted faults. The real client packages talk to it over real HTTP. It only ever lives in test/.
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Which API a request spoke. */
export type Api = 'openai' | 'anthropic' | 'ollama';

/** One request as the server saw it. */
export interface SeenRequest {
  api: Api;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  model: string;
  prompt: string;
  system?: string;
}

/** What the next request gets instead of a normal answer. */
export type Fault =
  /** An HTTP error in the API's own error format (e.g. 429 with Retry-After, 500, 401). */
  | { status: number; message?: string; retryAfter?: string }
  /** Read the request and never answer. */
  | { hang: true }
  /** Send the start of the answer, then nothing (for idle timeouts). */
  | { stall: true }
  /** 200, then a stream line that is not JSON. */
  | { malformed: true }
  /** A given answer, ending normally, truncated (`length`) or as a refusal. */
  | { reply: string; finish?: 'stop' | 'length' | 'refusal' }
  /** The whole answer as one JSON document (application/json), even to a request that asked for a stream; `pretty` spreads it over lines. */
  | { whole: true; pretty?: boolean }
  /** 200 with this body and content-type, whatever was asked (a proxy's HTML page, say). */
  | { body: string; contentType: string };

/** How the server answers when no fault is scripted. */
export interface TestServerOptions {
  /** The answer text for a request; default `answer to: <prompt>`. */
  reply?: (r: SeenRequest) => string;
  /** When set, requests must carry this key (Bearer, or x-api-key for Anthropic), else 401. */
  key?: string;
  /** Wait this long before answering (to make requests overlap). */
  delayMs?: number;
}

/** The test server: start it, script faults, count requests, close it. */
export class LlmTestServer {
  readonly requests: SeenRequest[] = [];
  maxInFlight = 0;
  #inFlight = 0;
  readonly #faults: Fault[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #server: http.Server;
  readonly #o: TestServerOptions;
  #url = '';

  private constructor(o: TestServerOptions) {
    this.#o = o;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** Listen on 127.0.0.1 on a free port. */
  static async start(o: TestServerOptions = {}): Promise<LlmTestServer> {
    const server = new LlmTestServer(o);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    server.#url = `http://127.0.0.1:${(server.#server.address() as AddressInfo).port}`;
    return server;
  }

  /** `http://127.0.0.1:<port>` (OpenAI clients want `${url}/v1`). */
  get url(): string {
    return this.#url;
  }

  /** The next requests get these, in order; after them, normal answers. */
  script(...faults: Fault[]): void {
    this.#faults.push(...faults);
  }

  /** How many requests arrived (of one API, or all). */
  count(api?: Api): number {
    return api ? this.requests.filter((r) => r.api === api).length : this.requests.length;
  }

  /** Forget requests, faults and the in-flight high-water mark. */
  reset(): void {
    this.requests.length = 0;
    this.#faults.length = 0;
    this.maxInFlight = 0;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const api: Api | undefined =
      req.method === 'POST' && url.pathname === '/v1/chat/completions' ? 'openai'
      : req.method === 'POST' && url.pathname === '/v1/messages' ? 'anthropic'
      : req.method === 'POST' && url.pathname === '/api/chat' ? 'ollama'
      : undefined;
    if (!api) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${req.method} ${url.pathname}` }));
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'request body is not JSON' }));
      return;
    }
    const seen = describe(api, url.pathname, req.headers, body);
    this.requests.push(seen);
    this.#inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    res.on('close', () => this.#inFlight--);

    if (this.#o.delayMs) await new Promise((r) => setTimeout(r, this.#o.delayMs));
    const fault = this.#faults.shift();
    if (fault === undefined && this.#o.key !== undefined && !hasKey(api, req.headers, this.#o.key)) {
      sendError(res, api, 401, api === 'anthropic' ? 'invalid x-api-key' : 'Incorrect API key provided');
      return;
    }
    const stream = api === 'ollama' ? body.stream !== false : body.stream === true;
    if (fault && 'status' in fault) return sendError(res, api, fault.status, fault.message ?? `scripted ${fault.status}`, fault.retryAfter);
    if (fault && 'hang' in fault) return; // never answer; close() destroys the socket
    if (fault && 'malformed' in fault) return sendMalformed(res, api);
    if (fault && 'body' in fault) return void res.writeHead(200, { 'content-type': fault.contentType }).end(fault.body);
    const text = fault && 'reply' in fault ? fault.reply : (this.#o.reply ?? ((r) => `answer to: ${r.prompt}`))(seen);
    const finish = fault && 'reply' in fault ? (fault.finish ?? 'stop') : 'stop';
    const answer = { text, finish, input: words(seen.prompt) + words(seen.system ?? ''), output: words(text), model: seen.model };
    if (fault && 'stall' in fault) return sendStream(res, api, answer, true);
    if (stream && !(fault && 'whole' in fault)) return sendStream(res, api, answer, false);
    return sendWhole(res, api, answer, fault && 'whole' in fault ? fault.pretty : false);
  }
}

interface Answer {
  text: string;
  finish: 'stop' | 'length' | 'refusal';
  input: number;
  output: number;
  model: string;
}

function words(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

function describe(api: Api, path: string, headers: IncomingHttpHeaders, body: Record<string, unknown>): SeenRequest {
  const messages = (body.messages ?? []) as { role: string; content: unknown }[];
  const text = (c: unknown) => (typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: { text?: string }) => p.text ?? '').join('') : '');
  const user = messages.filter((m) => m.role === 'user').map((m) => text(m.content)).join('\n');
  const system = api === 'anthropic' ? (body.system === undefined ? undefined : text(body.system)) : messages.find((m) => m.role === 'system')?.content;
  return { api, path, headers, body, model: String(body.model ?? ''), prompt: user, ...(system !== undefined ? { system: String(system) } : {}) };
}

function hasKey(api: Api, headers: IncomingHttpHeaders, key: string): boolean {
  // Anthropic's client sends its key as x-api-key or, in newer versions, as a Bearer token: both are accepted.
  if (api === 'anthropic' && headers['x-api-key'] === key) return true;
  return headers.authorization === `Bearer ${key}`;
}

function sendError(res: http.ServerResponse, api: Api, status: number, message: string, retryAfter?: string): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  const type = status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  const body =
    api === 'openai' ? { error: { message, type: status >= 500 ? 'server_error' : type, param: null, code: null } }
    : api === 'anthropic' ? { type: 'error', error: { type, message } }
    : { error: message };
  res.writeHead(status, headers).end(JSON.stringify(body));
}

function sendMalformed(res: http.ServerResponse, api: Api): void {
  if (api === 'ollama') {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"model": "m", "message": {"content": "half\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end(api === 'anthropic' ? 'event: message_start\ndata: {"type": "message_start", "message": {\n\n' : 'data: {"id": "x", "choices": [\n\n');
}

/** The answer split into two pieces, so clients have to put it back together. */
function pieces(text: string): string[] {
  const cut = Math.ceil(text.length / 2);
  return [text.slice(0, cut), text.slice(cut)].filter((p) => p !== '');
}

function sendStream(res: http.ServerResponse, api: Api, a: Answer, stall: boolean): void {
  const parts = pieces(a.text);
  const send = (s: string) => res.write(s);
  const sse = (event: string | undefined, data: unknown) => send(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  if (api === 'openai') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id: 'chatcmpl-test',
      object: 'chat.completion.chunk',
      created: 1,
      model: a.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    if (a.finish === 'refusal') {
      sse(undefined, chunk({ role: 'assistant', content: null, refusal: a.text }, null));
    } else {
      for (const [i, p] of parts.entries()) {
        sse(undefined, chunk(i === 0 ? { role: 'assistant', content: p } : { content: p }, null));
        if (stall) return;
      }
    }
    sse(undefined, chunk({}, a.finish === 'length' ? 'length' : 'stop'));
    sse(undefined, { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1, model: a.model, choices: [], usage: { prompt_tokens: a.input, completion_tokens: a.output, total_tokens: a.input + a.output } });
    sse(undefined, '[DONE]');
    res.end();
    return;
  }
  if (api === 'anthropic') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    sse('message_start', { type: 'message_start', message: { id: 'msg_test', type: 'message', role: 'assistant', content: [], model: a.model, stop_reason: null, stop_sequence: null, usage: { input_tokens: a.input, output_tokens: 1 } } });
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    sse('ping', { type: 'ping' });
    for (const p of parts) {
      sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } });
      if (stall) return;
    }
    sse('content_block_stop', { type: 'content_block_stop', index: 0 });
    const stop = a.finish === 'length' ? 'max_tokens' : a.finish === 'refusal' ? 'refusal' : 'end_turn';
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: a.output } });
    sse('message_stop', { type: 'message_stop' });
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const p of parts) {
    send(`${JSON.stringify({ model: a.model, created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: p }, done: false })}\n`);
    if (stall) return;
  }
  const reason = a.finish === 'length' ? 'length' : 'stop';
  send(`${JSON.stringify({ model: a.model, created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: '' }, done: true, done_reason: reason, prompt_eval_count: a.input, eval_count: a.output })}\n`);
  res.end();
}

function sendWhole(res: http.ServerResponse, api: Api, a: Answer, pretty = false): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const send = (body: unknown) => res.end(pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body));
  if (api === 'openai') {
    const finish = a.finish === 'length' ? 'length' : 'stop';
    const message = a.finish === 'refusal' ? { role: 'assistant', content: null, refusal: a.text } : { role: 'assistant', content: a.text, refusal: null };
    send({ id: 'chatcmpl-test', object: 'chat.completion', created: 1, model: a.model, choices: [{ index: 0, message, finish_reason: finish }], usage: { prompt_tokens: a.input, completion_tokens: a.output, total_tokens: a.input + a.output } });
  } else if (api === 'anthropic') {
    const stop = a.finish === 'length' ? 'max_tokens' : a.finish === 'refusal' ? 'refusal' : 'end_turn';
    send({ id: 'msg_test', type: 'message', role: 'assistant', model: a.model, content: [{ type: 'text', text: a.text }], stop_reason: stop, stop_sequence: null, usage: { input_tokens: a.input, output_tokens: a.output } });
  } else {
    send({ model: a.model, created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: a.text }, done: true, done_reason: a.finish === 'length' ? 'length' : 'stop', prompt_eval_count: a.input, eval_count: a.output });
  }
}
