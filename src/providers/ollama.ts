import { Ollama, type ChatResponse } from 'ollama';
import {
  httpError,
  incompleteAnswer,
  isBrokenConnection,
  joinUrl,
  malformedResponse,
  quoteStart,
  mediaTypeOf,
  networkError,
  readWholeBody,
  ProviderError,
  unexpectedResponse,
  type ChatAnswer,
  type ChatOptions,
  type ChatRequest,
  type FinishReason,
  type Provider,
  type ResolvedProvider,
} from './provider.js';

/** What `ollama` throws when a stream ends without its `done` line. */
const NO_DONE_MESSAGE = 'Did not receive done or success response in stream.';

/**
 * Ollama's native API (`/api/chat`) through the `ollama` package, streamed.
 *
 * The package is given our own `fetch`: it carries the attempt's signal (the package has no per-request one),
 * turns HTTP errors into ProviderErrors with their status and Retry-After (the package keeps neither and prints
 * to the console), and fails on a stream line that is not JSON (the package would skip it with a console warning).
 */
export function createOllamaProvider(config: ResolvedProvider): Provider {
  const headers: Record<string, string> = config.apiKey !== undefined ? { Authorization: `Bearer ${config.apiKey}` } : {};

  const body = (req: ChatRequest) => {
    const options: Record<string, number> = {};
    if (req.temperature !== undefined) options.temperature = req.temperature;
    if (req.maxTokens !== undefined) options.num_predict = req.maxTokens;
    return {
      model: req.model,
      messages: [...(req.system !== undefined ? [{ role: 'system', content: req.system }] : []), { role: 'user', content: req.prompt }],
      stream: true as const,
      ...(Object.keys(options).length > 0 ? { options } : {}),
    };
  };

  return {
    config,
    describe: (req) => ({ url: joinUrl(config.baseUrl, 'api/chat'), body: { ...body(req) } }),
    async chat(req: ChatRequest, o: ChatOptions): Promise<ChatAnswer> {
      const client = new Ollama({ host: config.baseUrl, headers, fetch: fetchFor(o.signal, config.baseUrl, o.mask) });
      let text = '';
      let last: ChatResponse | undefined;
      try {
        const stream = await client.chat(body(req));
        for await (const part of stream) {
          const piece = part.message?.content ?? '';
          text += piece;
          if (part.done) last = part;
          o.onData(piece);
        }
      } catch (e) {
        if (o.signal.aborted) throw e;
        throw classify(e, config.baseUrl);
      }
      const usage = last && typeof last.eval_count === 'number' ? { input_tokens: last.prompt_eval_count ?? 0, output_tokens: last.eval_count } : undefined;
      if (o.signal.aborted) return { text, finish: 'other', rawFinishReason: 'aborted', usage };
      if (!last) throw incompleteAnswer();
      const reason = last.done_reason || 'stop';
      return { text, finish: finishOf(reason), rawFinishReason: reason, usage };
    },
  };
}

function finishOf(reason: string): FinishReason {
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  return 'other';
}

function classify(e: unknown, baseUrl: string): unknown {
  if (e instanceof ProviderError) return e;
  if (e instanceof Error && e.message === NO_DONE_MESSAGE) return incompleteAnswer();
  if (isBrokenConnection(e)) return networkError(e, baseUrl);
  return e;
}

/** A fetch for one request: the attempt's signal, HTTP errors as ProviderErrors, and a body that fails on a non-JSON line. */
function fetchFor(signal: AbortSignal, baseUrl: string, mask: (text: string) => string): typeof fetch {
  return async (input, init) => {
    const combined = init?.signal ? AbortSignal.any([init.signal, signal]) : signal;
    let res: Response;
    try {
      res = await fetch(input, { ...init, signal: combined });
    } catch (e) {
      if (signal.aborted) throw e;
      throw networkError(e, baseUrl);
    }
    if (!res.ok) throw httpError(res.status, await errorMessage(res, mask), res.headers);
    if (!res.body) return res;
    const body = mediaTypeOf(res.headers) === 'application/json' ? new Response(await wholeAsLine(res, mask)).body! : res.body;
    return new Response(body.pipeThrough(ndjsonGuard(res, mask)), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** A server that ignored `stream: true` sends one JSON object, maybe over several lines: passed on as the one NDJSON line it stands for. */
async function wholeAsLine(res: Response, mask: (text: string) => string): Promise<string> {
  const whole = await readWholeBody(res, mask);
  const value = whole.json as { done?: unknown; error?: unknown } | undefined;
  if (typeof value?.done !== 'boolean' && typeof value?.error !== 'string') throw whole.unexpected();
  return `${JSON.stringify(value)}\n`;
}

/** Ollama's `{"error": "..."}` body, else the start of the body's text (masked, then cut), else the status text. */
async function errorMessage(res: Response, mask: (text: string) => string): Promise<string> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    return res.statusText || 'no body';
  }
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: use the text
  }
  const trimmed = text.trim();
  if (!trimmed) return res.statusText || 'no body';
  const { quoted, isCut } = quoteStart(trimmed, 500, mask);
  return isCut ? `${quoted}…` : quoted;
}

/** How much of a body that is not NDJSON is kept to quote the start of (masked first: see quoteStart). */
const HEAD_CHARS = 64 * 1024;

/**
 * Passes NDJSON through unchanged, but errors the stream on a line that is not JSON or that carries `error`.
 * A body not declared as NDJSON whose first line is not JSON is something else altogether: the error says what came back.
 */
function ndjsonGuard(response: { status: number; headers: Headers }, mask: (text: string) => string): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let pending = '';
  let head = '';
  let isNdjson = false;
  const check = (line: string, controller: TransformStreamDefaultController<Uint8Array>): boolean => {
    if (line.trim() === '') return true;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // A stream declared as NDJSON that breaks is malformed; any other body that is not even one JSON line is something else.
      const isDeclared = isNdjson || mediaTypeOf(response.headers).includes('ndjson');
      // The line is never quoted (it may hold a secret, and a quote cut short would slip past the mask).
      controller.error(isDeclared ? malformedResponse('a line of the stream is not JSON') : unexpectedResponse({ status: response.status, contentType: response.headers.get('content-type'), head, mask }));
      return false;
    }
    isNdjson = true;
    if (value !== null && typeof value === 'object' && typeof (value as { error?: unknown }).error === 'string') {
      controller.error(new ProviderError(`error in the response stream: ${(value as { error: string }).error}`, { retryable: false }));
      return false;
    }
    return true;
  };
  return new TransformStream({
    transform(chunk, controller) {
      const text = decoder.decode(chunk, { stream: true });
      if (!isNdjson && head.length < HEAD_CHARS) head += text.slice(0, HEAD_CHARS);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (!check(line, controller)) return;
      controller.enqueue(chunk);
    },
    flush(controller) {
      const rest = decoder.decode();
      pending += rest;
      if (!isNdjson) head += rest;
      check(pending, controller);
    },
  });
}
