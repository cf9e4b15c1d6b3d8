import type { TokenUsage } from '../events/types.js';

/** The kinds of endpoint SPEC §5 knows. */
export type ProviderType = 'openai' | 'anthropic' | 'ollama' | 'mlx';

/** Every provider type, for messages and `$ORCH_PROVIDER`. */
export const PROVIDER_TYPES: readonly ProviderType[] = ['openai', 'anthropic', 'ollama', 'mlx'];

/** A provider as a run uses it: the spec's `providers:` entry (or `$ORCH_PROVIDER`) with defaults applied. */
export interface ResolvedProvider {
  /** The name in `providers:`, or the type when it came from `$ORCH_PROVIDER`. */
  name: string;
  type: ProviderType;
  /** Without a trailing slash; each client's convention (SPEC §5). */
  baseUrl: string;
  /** The NAME of the variable holding the key, when one is used. */
  apiKeyEnv?: string;
  /** The key itself: only ever put in a request header, never written anywhere. */
  apiKey?: string;
  model?: string;
  system?: string;
  temperature?: number;
  maxTokens?: number;
  timeoutMs?: number;
  concurrency?: number;
  requestsPerMinute?: number;
}

/** One chat request, the same for every provider: one optional system message and one user message. */
export interface ChatRequest {
  model: string;
  system?: string;
  prompt: string;
  temperature?: number;
  maxTokens?: number;
}

/** How an answer ended, in our words: only `stop` is a complete, honest answer. */
export type FinishReason = 'stop' | 'length' | 'refusal' | 'other';

/** A complete streamed answer. */
export interface ChatAnswer {
  text: string;
  finish: FinishReason;
  /** The provider's own word for it (`stop`, `end_turn`, `max_tokens`, …). */
  rawFinishReason: string;
  /** What the model said instead of answering, when it refused. */
  refusal?: string;
  usage?: TokenUsage;
}

/** Per request: the attempt's signal (timeouts and cancellation abort it) and a callback for each streamed piece. */
export interface ChatOptions {
  signal: AbortSignal;
  /** How long the attempt may take; clients get a little more, so that our own timer decides. */
  timeoutMs: number;
  /** Called with each piece of text as it streams in (also with '' for pieces without text). */
  onData: (text: string) => void;
  /** Masks secrets in what an error message quotes of a response: applied before anything is cut. */
  mask: (text: string) => string;
}

/** A chat endpoint reached through its client package. */
export interface Provider {
  readonly config: ResolvedProvider;
  /** The URL and the exact JSON body a request sends: what the step log records (never headers, so never the key). */
  describe(req: ChatRequest): { url: string; body: Record<string, unknown> };
  /** Send the request and stream the answer; failures are ProviderErrors. Returns early (possibly incomplete) if `signal` aborts. */
  chat(req: ChatRequest, o: ChatOptions): Promise<ChatAnswer>;
}

/** Builds a Provider for one resolved configuration. */
export type ProviderFactory = (config: ResolvedProvider) => Provider;

/** A failed request, classified: `retryable` only for transient faults (network, timeout, 429, 5xx). */
export class ProviderError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly isTimeout: boolean;

  constructor(message: string, o: { retryable: boolean; status?: number; retryAfterMs?: number; isTimeout?: boolean }) {
    super(message);
    this.name = 'ProviderError';
    this.retryable = o.retryable;
    this.status = o.status;
    this.retryAfterMs = o.retryAfterMs;
    this.isTimeout = o.isTimeout ?? false;
  }
}

/** Whether an HTTP status is worth another attempt: 408, 429 and 5xx; never 400/401/403. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** An HTTP error as a ProviderError: `HTTP 401: <the provider's message>`, retryable when transient, with Retry-After. */
export function httpError(status: number, message: string, headers?: HeaderReader | null): ProviderError {
  const transient = isTransientStatus(status);
  return new ProviderError(`HTTP ${status}: ${message}`, {
    retryable: transient,
    status,
    retryAfterMs: transient ? retryAfterMs(headers) : undefined,
  });
}

/** Anything with `get(name)` for headers (fetch's Headers, the SDKs' headers). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** A delay asked for by `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an HTTP date), in ms. */
export function retryAfterMs(headers: HeaderReader | null | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The timeout handed to a client: a second more than ours, so the attempt's own timer fires first and names it. */
export function clientTimeoutMs(timeoutMs: number): number {
  return Math.ceil(timeoutMs) + 1000;
}

/** A stream that ended without saying how: the connection broke mid-answer (transient). */
export function incompleteAnswer(): ProviderError {
  return new ProviderError('the response stream ended before the answer was complete', { retryable: true });
}

/** A response that is not the JSON the API promises: reported, not retried (a server that sends garbage keeps doing so). */
export function malformedResponse(detail: string): ProviderError {
  return new ProviderError(`malformed response from the provider: ${detail}`, { retryable: false });
}

/** How many characters of an unexpected body a message quotes. */
const QUOTED_BODY_CHARS = 200;
/**
 * How much of a body is masked before the start of it is quoted: a secret that begins in the quoted part is
 * whole in this much, so the mask finds it before the cut could split it.
 */
const MASK_WINDOW_CHARS = 64 * 1024;

/** The start of `text`, masked first and cut second (the other way round, a cut secret would slip past the mask). */
export function quoteStart(text: string, max: number, mask: (text: string) => string): { quoted: string; isCut: boolean } {
  const masked = mask(text.slice(0, MASK_WINDOW_CHARS));
  return masked.length <= max && text.length <= MASK_WINDOW_CHARS ? { quoted: masked, isCut: false } : { quoted: masked.slice(0, max), isCut: true };
}

/** What a client threw, in words that never quote the response: V8's JSON errors quote the text they could not parse. */
export function thrownMessage(e: unknown): string {
  if (e instanceof SyntaxError) return 'a part of the response is not JSON';
  return (e as Error)?.message ?? String(e);
}

/** A response's media type (`text/event-stream`), lower case and without parameters; '' when it has none. */
export function mediaTypeOf(headers: HeaderReader): string {
  return (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The body of a response that did not stream, read whole: its JSON (undefined if it is not JSON), and the error to throw if that is no answer. */
export interface WholeBody {
  json: unknown;
  unexpected: () => ProviderError;
}

/** Reads a response that did not stream (some OpenAI-compatible servers and proxies ignore `stream: true`). */
export async function readWholeBody(res: Response, mask: (text: string) => string): Promise<WholeBody> {
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { json, unexpected: () => unexpectedResponse({ status: res.status, contentType: res.headers.get('content-type'), head: bytes.toString('utf8'), mask }) };
}

/**
 * A successful status whose body is neither the stream asked for nor a whole answer (an HTML login page, a proxy's
 * notice): not retried, since a server that answers so keeps doing so. Quotes the start of what came back, masked.
 */
export function unexpectedResponse(o: { status: number; contentType: string | null; head: string; mask: (text: string) => string }): ProviderError {
  const { quoted, isCut } = quoteStart(o.head, QUOTED_BODY_CHARS, o.mask);
  const more = isCut ? ` (its first ${QUOTED_BODY_CHARS} characters)` : '';
  const body = o.head.length === 0 ? 'an empty body' : `body ${JSON.stringify(quoted)}${more}`;
  return new ProviderError(`the server answered with neither a stream nor a complete answer: HTTP ${o.status}, content-type ${o.contentType ?? '(none)'}, ${body}`, {
    retryable: false,
  });
}

/** What the commonest system error codes of a connection mean, for someone who has not met them. */
const NETWORK_CODE_MEANING: Record<string, string> = {
  ECONNREFUSED: 'nothing is listening at that address: is the server running (a local one such as Ollama: `ollama serve`)?',
  ENOTFOUND: 'the host name does not resolve: check base_url',
  EAI_AGAIN: 'the host name could not be resolved now (DNS)',
};

/** A network failure below HTTP (connection refused, reset, DNS): transient. Names the server, the system's error code and what it means. */
export function networkError(e: unknown, baseUrl: string): ProviderError {
  const err = e as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const detail = err.cause?.code ?? err.code ?? err.cause?.message ?? err.message ?? String(e);
  const meaning = NETWORK_CODE_MEANING[detail];
  return new ProviderError(`network error talking to ${baseUrl}: ${detail}${meaning ? ` (${meaning})` : ''}`, { retryable: true });
}

/** Errors thrown while reading a stream that mean the connection broke (undici's `terminated`, socket errors). */
export function isBrokenConnection(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: string; cause?: { code?: string } }).cause?.code ?? (e as { code?: string }).code;
  return e.message === 'terminated' || (typeof code === 'string' && /^(ECONNRESET|EPIPE|ECONNREFUSED|ETIMEDOUT|UND_ERR_\w+)$/.test(code));
}

/** `base_url` + path, with exactly one slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** The error classes of an SDK generated by Stainless (openai, @anthropic-ai/sdk): the same shapes under other names. */
export interface SdkErrorClasses {
  APIUserAbortError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIError: abstract new (...args: never[]) => Error & { status?: number | undefined; headers?: HeaderReader | null | undefined };
}

/**
 * What an SDK's error means for a step: the attempt's own abort passes through, a timeout and a broken
 * connection are transient, an HTTP status is judged by httpError, and an error event inside a 200 stream by
 * the provider's own `inStream` (each SDK names its message and its transient kinds differently).
 */
export function classifySdkError(
  e: unknown,
  o: { sdk: SdkErrorClasses; baseUrl: string; messageOf: (e: Error) => string; inStream: (e: Error, message: string) => ProviderError },
): unknown {
  const { sdk } = o;
  if (e instanceof sdk.APIUserAbortError) return e; // the attempt's own signal: the caller knows why
  if (e instanceof sdk.APIConnectionTimeoutError) return new ProviderError('no response before the timeout', { retryable: true, isTimeout: true });
  if (e instanceof sdk.APIConnectionError) return networkError(e.cause ?? e, o.baseUrl);
  if (e instanceof sdk.APIError) {
    const message = o.messageOf(e);
    return typeof e.status === 'number' ? httpError(e.status, message, e.headers) : o.inStream(e, message);
  }
  if (e instanceof SyntaxError) return malformedResponse(thrownMessage(e));
  if (isBrokenConnection(e)) return networkError(e, o.baseUrl);
  return e;
}

