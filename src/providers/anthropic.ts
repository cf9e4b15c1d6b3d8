import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { MessageCreateParamsStreaming, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
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

/** Error types Anthropic sends inside a stream that another attempt may get past. */
const TRANSIENT_STREAM_ERRORS = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error']);

/** Anthropic's Messages API through `@anthropic-ai/sdk`, streamed. */
export function createAnthropicProvider(config: ResolvedProvider): Provider {
  let client: Anthropic | undefined;
  // Built on first use: an --offline run answered from the cache needs no key.
  const clientFor = () =>
    (client ??= new Anthropic({
      baseURL: config.baseUrl,
      apiKey: config.apiKey ?? null,
      maxRetries: 0, // the scheduler retries, with the step's policy
      logLevel: 'off',
    }));

  const body = (req: ChatRequest): MessageCreateParamsStreaming => ({
    model: req.model,
    // resolve.ts always sets it for anthropic: the API requires max_tokens.
    max_tokens: req.maxTokens!,
    ...(req.system !== undefined ? { system: req.system } : {}),
    messages: [{ role: 'user', content: req.prompt }],
    ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
    stream: true,
  });

  return {
    config,
    describe: (req) => ({ url: joinUrl(config.baseUrl, 'v1/messages'), body: { ...body(req) } }),
    async chat(req: ChatRequest, o: ChatOptions): Promise<ChatAnswer> {
      let text = '';
      let stop: string | null = null;
      let input = 0;
      let output = 0;
      let hasUsage = false;
      let ended = false;
      try {
        const stream = await clientFor().messages.create(body(req), { signal: o.signal, timeout: clientTimeoutMs(o.timeoutMs) });
        for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
          let piece = '';
          switch (event.type) {
            case 'message_start':
              input = event.message.usage?.input_tokens ?? 0;
              output = event.message.usage?.output_tokens ?? 0;
              hasUsage = event.message.usage !== undefined;
              break;
            case 'content_block_delta':
              if (event.delta.type === 'text_delta') piece = event.delta.text;
              break;
            case 'message_delta':
              stop = event.delta.stop_reason ?? stop;
              // Cumulative counts.
              if (event.usage?.output_tokens != null) output = event.usage.output_tokens;
              if (event.usage?.input_tokens != null) input = event.usage.input_tokens;
              hasUsage ||= event.usage !== undefined;
              break;
            case 'message_stop':
              ended = true;
              break;
            default:
              break; // content_block_start/stop and event types added later
          }
          text += piece;
          o.onData(piece);
        }
      } catch (e) {
        throw classify(e, config.baseUrl);
      }
      const usage = hasUsage ? { input_tokens: input, output_tokens: output } : undefined;
      if (o.signal.aborted) return { text, finish: 'other', rawFinishReason: 'aborted', usage };
      if (!ended || stop === null) throw incompleteAnswer();
      return { text, finish: finishOf(stop), rawFinishReason: stop, ...(stop === 'refusal' ? { refusal: text } : {}), usage };
    },
  };
}

function finishOf(reason: string): FinishReason {
  if (reason === 'end_turn' || reason === 'stop_sequence') return 'stop';
  if (reason === 'max_tokens' || reason === 'model_context_window_exceeded') return 'length';
  if (reason === 'refusal') return 'refusal';
  return 'other';
}

/** The package's errors in our terms. */
function classify(e: unknown, baseUrl: string): unknown {
  if (e instanceof APIUserAbortError) return e; // the attempt's own signal: the caller knows why
  if (e instanceof APIConnectionTimeoutError) return new ProviderError('no response before the timeout', { retryable: true, isTimeout: true });
  if (e instanceof APIConnectionError) return networkError(e.cause ?? e, baseUrl);
  if (e instanceof APIError) {
    const message = e.apiMessage ?? e.message;
    if (typeof e.status === 'number') return httpError(e.status, message, e.headers);
    // `event: error` inside a 200 stream (e.g. overloaded_error).
    return new ProviderError(`error in the response stream: ${e.type ? `${e.type}: ` : ''}${message}`, { retryable: TRANSIENT_STREAM_ERRORS.has(e.type ?? '') });
  }
  if (e instanceof SyntaxError) return malformedResponse(e.message);
  if (isBrokenConnection(e)) return networkError(e, baseUrl);
  return e;
}
