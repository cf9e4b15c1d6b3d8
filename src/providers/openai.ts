import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import {
  classifySdkError,
  clientTimeoutMs,
  incompleteAnswer,
  joinUrl,
  mediaTypeOf,
  readWholeBody,
  ProviderError,
  type ChatAnswer,
  type ChatOptions,
  type ChatRequest,
  type FinishReason,
  type Provider,
  type ResolvedProvider,
  type WholeBody,
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
      const got: Collected = { text: '', refusal: '', finish: null };
      try {
        // withResponse: the stream is parsed lazily, so a server that ignored `stream: true` can still be read whole.
        const { data, response } = await clientFor().chat.completions.create(body(req), { signal: o.signal, timeout: clientTimeoutMs(o.timeoutMs) }).withResponse();
        if (mediaTypeOf(response.headers) === 'text/event-stream') await collectStream(data, got, o.onData);
        else collectCompletion(await readWholeBody(response, o.mask), got, o.onData);
      } catch (e) {
        throw classify(e, config.baseUrl);
      }
      const { text, refusal, finish, usage } = got;
      if (o.signal.aborted) return { text, finish: 'other', rawFinishReason: 'aborted', usage };
      if (finish === null) throw incompleteAnswer();
      return { text, finish: finishOf(finish, refusal), rawFinishReason: finish, ...(refusal ? { refusal } : {}), usage };
    },
  };
}

/** What an answer says, streamed or whole. */
interface Collected {
  text: string;
  refusal: string;
  finish: string | null;
  usage?: ChatAnswer['usage'];
}

async function collectStream(stream: AsyncIterable<ChatCompletionChunk>, got: Collected, onData: (text: string) => void): Promise<void> {
  for await (const chunk of stream) {
    const choice = chunk.choices?.[0];
    const piece = choice?.delta?.content ?? '';
    got.text += piece;
    if (choice?.delta?.refusal) got.refusal += choice.delta.refusal;
    if (choice?.finish_reason) got.finish = choice.finish_reason;
    if (chunk.usage) got.usage = usageOf(chunk.usage);
    onData(piece);
  }
}

/** A plain `chat.completion` sent instead of the stream asked for; anything else fails, quoting what came back. */
function collectCompletion(whole: WholeBody, got: Collected, onData: (text: string) => void): void {
  const completion = whole.json as Partial<ChatCompletion> | undefined;
  const choice = Array.isArray(completion?.choices) ? completion.choices[0] : undefined;
  if (typeof choice?.message !== 'object' || choice.message === null) throw whole.unexpected();
  got.text = choice.message.content ?? '';
  got.refusal = choice.message.refusal ?? '';
  // A whole body is complete by construction: without a reason it is an answer of unknown kind (kept, not cached).
  got.finish = choice.finish_reason ?? 'unknown';
  if (completion?.usage) got.usage = usageOf(completion.usage);
  onData(got.text);
}

function usageOf(u: CompletionUsage): ChatAnswer['usage'] {
  return { input_tokens: u.prompt_tokens ?? 0, output_tokens: u.completion_tokens ?? 0 };
}

function finishOf(reason: string, refusal: string): FinishReason {
  if (refusal || reason === 'content_filter') return 'refusal';
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  return 'other';
}

/** The package's errors in our terms. */
function classify(e: unknown, baseUrl: string): unknown {
  return classifySdkError(e, {
    sdk: { APIUserAbortError, APIConnectionTimeoutError, APIConnectionError, APIError },
    baseUrl,
    messageOf: (err) => {
      const body = (err as APIError).error as { message?: unknown } | undefined;
      return typeof body?.message === 'string' ? body.message : err.message;
    },
    // An error sent inside a 200 stream.
    inStream: (err, message) => new ProviderError(`error in the response stream: ${message}`, { retryable: ((err as APIError).error as { type?: unknown } | undefined)?.type === 'server_error' }),
  });
}
