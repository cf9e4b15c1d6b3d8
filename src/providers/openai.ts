import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import {
  clientTimeoutMs,
  httpError,
  incompleteAnswer,
  isBrokenConnection,
  joinUrl,
  malformedResponse,
  networkError,
  ProviderError,
  type ChatAnswer,
  type ChatOptions,
  type ChatRequest,
  type FinishReason,
  type Provider,
  type ResolvedProvider,
} from './provider.js';

/** Any OpenAI-compatible endpoint (OpenAI, Ollama's /v1, vLLM, llama.cpp server, mlx_lm.server) through the `openai` package, streamed. */
export function createOpenAiProvider(config: ResolvedProvider): Provider {
  let client: OpenAI | undefined;
  // Built on first use: an --offline run that answers from the cache never needs a client (or a key).
  const clientFor = () =>
    (client ??= new OpenAI({
      baseURL: config.baseUrl,
      // The package insists on a key; a keyless local server (Ollama, vLLM, llama.cpp) gets no Authorization header at all.
      apiKey: config.apiKey ?? 'no-key',
      ...(config.apiKey === undefined ? { defaultHeaders: { Authorization: null } } : {}),
      maxRetries: 0, // the scheduler retries, with the step's policy
      logLevel: 'off', // nothing under src/ writes to the terminal
    }));

  const body = (req: ChatRequest): ChatCompletionCreateParamsStreaming => ({
    model: req.model,
    messages: [...(req.system !== undefined ? [{ role: 'system' as const, content: req.system }] : []), { role: 'user', content: req.prompt }],
    ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
    // max_tokens, not max_completion_tokens: the one every compatible server understands.
    ...(req.maxTokens !== undefined ? { max_tokens: req.maxTokens } : {}),
    stream: true,
    stream_options: { include_usage: true },
  });

  return {
    config,
    describe: (req) => ({ url: joinUrl(config.baseUrl, 'chat/completions'), body: { ...body(req) } }),
    async chat(req: ChatRequest, o: ChatOptions): Promise<ChatAnswer> {
      let text = '';
      let refusal = '';
      let finish: string | null = null;
      let usage: ChatAnswer['usage'];
      try {
        const stream = await clientFor().chat.completions.create(body(req), { signal: o.signal, timeout: clientTimeoutMs(o.timeoutMs) });
        for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
          const choice = chunk.choices?.[0];
          const piece = choice?.delta?.content ?? '';
          text += piece;
          if (choice?.delta?.refusal) refusal += choice.delta.refusal;
          if (choice?.finish_reason) finish = choice.finish_reason;
          if (chunk.usage) usage = { input_tokens: chunk.usage.prompt_tokens ?? 0, output_tokens: chunk.usage.completion_tokens ?? 0 };
          o.onData(piece);
        }
      } catch (e) {
        throw classify(e, config.baseUrl);
      }
      if (o.signal.aborted) return { text, finish: 'other', rawFinishReason: 'aborted', usage };
      if (finish === null) throw incompleteAnswer();
      return { text, finish: finishOf(finish, refusal), rawFinishReason: finish, ...(refusal ? { refusal } : {}), usage };
    },
  };
}

function finishOf(reason: string, refusal: string): FinishReason {
  if (refusal || reason === 'content_filter') return 'refusal';
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  return 'other';
}

/** The package's errors in our terms. */
function classify(e: unknown, baseUrl: string): unknown {
  if (e instanceof APIUserAbortError) return e; // the attempt's own signal: the caller knows why
  if (e instanceof APIConnectionTimeoutError) return new ProviderError('no response before the timeout', { retryable: true, isTimeout: true });
  if (e instanceof APIConnectionError) return networkError(e.cause ?? e, baseUrl);
  if (e instanceof APIError) {
    const body = e.error as { message?: unknown; type?: unknown } | undefined;
    const message = typeof body?.message === 'string' ? body.message : e.message;
    if (typeof e.status === 'number') return httpError(e.status, message, e.headers);
    // An error sent inside a 200 stream.
    return new ProviderError(`error in the response stream: ${message}`, { retryable: body?.type === 'server_error' });
  }
  if (e instanceof SyntaxError) return malformedResponse(e.message);
  if (isBrokenConnection(e)) return networkError(e, baseUrl);
  return e;
}
