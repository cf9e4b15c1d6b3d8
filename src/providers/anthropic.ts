import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsStreaming, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
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
      const got: Collected = { text: '', stop: null, input: 0, output: 0, hasUsage: false, ended: false };
      try {
        // withResponse: the stream is parsed lazily, so a server that ignored `stream: true` can still be read whole.
        const { data, response } = await clientFor().messages.create(body(req), { signal: o.signal, timeout: clientTimeoutMs(o.timeoutMs) }).withResponse();
        if (mediaTypeOf(response.headers) === 'text/event-stream') await collectStream(data, got, o.onData);
        else collectMessage(await readWholeBody(response, o.mask), got, o.onData);
      } catch (e) {
        throw classify(e, config.baseUrl);
      }
      const { text, stop } = got;
      const usage = got.hasUsage ? { input_tokens: got.input, output_tokens: got.output } : undefined;
      if (o.signal.aborted) return { text, finish: 'other', rawFinishReason: 'aborted', usage };
      if (!got.ended || stop === null) throw incompleteAnswer();
      return { text, finish: finishOf(stop), rawFinishReason: stop, ...(stop === 'refusal' ? { refusal: text } : {}), usage };
    },
  };
}

/** What an answer says, streamed or whole. */
interface Collected {
  text: string;
  stop: string | null;
  input: number;
  output: number;
  hasUsage: boolean;
  ended: boolean;
}

async function collectStream(stream: AsyncIterable<RawMessageStreamEvent>, got: Collected, onData: (text: string) => void): Promise<void> {
  for await (const event of stream) {
    let piece = '';
    switch (event.type) {
      case 'message_start':
        got.input = event.message.usage?.input_tokens ?? 0;
        got.output = event.message.usage?.output_tokens ?? 0;
        got.hasUsage = event.message.usage !== undefined;
        break;
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') piece = event.delta.text;
        break;
      case 'message_delta':
        got.stop = event.delta.stop_reason ?? got.stop;
        // Cumulative counts.
        if (event.usage?.output_tokens != null) got.output = event.usage.output_tokens;
        if (event.usage?.input_tokens != null) got.input = event.usage.input_tokens;
        got.hasUsage ||= event.usage !== undefined;
        break;
      case 'message_stop':
        got.ended = true;
        break;
      default:
        break; // content_block_start/stop and event types added later
    }
    got.text += piece;
    onData(piece);
  }
}

/** A plain `message` sent instead of the stream asked for; anything else fails, quoting what came back. */
function collectMessage(whole: WholeBody, got: Collected, onData: (text: string) => void): void {
  const message = whole.json as Partial<Message> | undefined;
  if (message?.type !== 'message' || !Array.isArray(message.content)) throw whole.unexpected();
  got.text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  // A whole body is complete by construction: without a reason it is an answer of unknown kind (kept, not cached).
  got.stop = message.stop_reason ?? 'unknown';
  got.ended = true;
  if (message.usage) {
    got.input = message.usage.input_tokens ?? 0;
    got.output = message.usage.output_tokens ?? 0;
    got.hasUsage = true;
  }
  onData(got.text);
}

function finishOf(reason: string): FinishReason {
  if (reason === 'end_turn' || reason === 'stop_sequence') return 'stop';
  if (reason === 'max_tokens' || reason === 'model_context_window_exceeded') return 'length';
  if (reason === 'refusal') return 'refusal';
  return 'other';
}

/** The package's errors in our terms. */
function classify(e: unknown, baseUrl: string): unknown {
  return classifySdkError(e, {
    sdk: { APIUserAbortError, APIConnectionTimeoutError, APIConnectionError, APIError },
    baseUrl,
    messageOf: (err) => (err as APIError).apiMessage ?? err.message,
    // `event: error` inside a 200 stream (e.g. overloaded_error).
    inStream: (err, message) => {
      const type = (err as APIError).type;
      return new ProviderError(`error in the response stream: ${type ? `${type}: ` : ''}${message}`, { retryable: TRANSIENT_STREAM_ERRORS.has(type ?? '') });
    },
  });
}
