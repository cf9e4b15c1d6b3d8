import type { ContractCheck } from './contract.js';
import type { StepError } from '../errors.js';
import type { TokenUsage } from '../events/types.js';
import { ExpressionError, type EvalContext } from '../expr/index.js';
import type { ProviderLimiter } from '../providers/limit.js';
import { WaitCancelled } from '../providers/limit.js';
import { ProviderError, thrownMessage, type ChatAnswer, type ChatRequest, type Provider, type ResolvedProvider } from '../providers/provider.js';
import { llmTimeoutMs } from '../providers/resolve.js';
import { formatDuration } from '../specfile/duration.js';
import type { StepSpec } from '../specfile/model.js';
import { CACHE_FORMAT, cacheKey, type ResponseCache } from '../store/cache.js';
import { ioFault, isIoError } from '../store/io-fault.js';
import type { Redactor } from '../store/redact.js';
import type { RunDir } from '../store/run-dir.js';
import { LlmLog, LogTally } from './llm-log.js';
import { parseJsonOutput } from './outputs.js';
import { renderField } from './render.js';
import type { AttemptInput, AttemptResult, StepExecutor } from './types.js';

/** A Retry-After longer than this is not waited for: the step fails and says what the provider asked. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** The provider an LLM step uses, with that provider's limits. */
export interface LlmBinding {
  provider: Provider;
  limiter: ProviderLimiter;
}

/** Everything the LLM executor of one job needs. */
export interface LlmExecutorOptions {
  runDir: RunDir;
  redactor: Redactor;
  /** By step id. */
  bindings: Map<string, LlmBinding>;
  /** Absent when no step uses the cache. */
  cache?: ResponseCache;
  /** --no-cache: do not read the cache (answers are still stored). */
  noCache: boolean;
  /** --force: prompt steps (or fanned prompt steps, for their instances) whose cached answer is not read (a new one is stored). */
  force: ReadonlySet<string>;
  /** --offline: never send a request; a miss fails the step. */
  offline: boolean;
  /** The spec's outputs_schema contracts: an answer whose outputs break its step's is not stored (the step fails on it). */
  checkContract?: ContractCheck;
  /** Problems the user should see that do not fail a step (a corrupt cache entry). */
  warn: (message: string) => void;
}

type Aborted = 'timeout' | 'idle-timeout' | 'cancelled';
type Outcome = { answer: ChatAnswer; ms: number } | { aborted: Aborted; partial: string } | { error: ProviderError; partial: string };

/** Runs `prompt:` steps (SPEC §5): render, look the answer up in the response cache, else ask the provider; log both ways. */
export class LlmExecutor implements StepExecutor {
  readonly #o: LlmExecutorOptions;
  /** What each step's log holds so far, by step id, while the step may have another attempt (see LogTally). */
  readonly #tallies = new Map<string, LogTally>();

  constructor(o: LlmExecutorOptions) {
    this.#o = o;
  }

  async runAttempt(input: AttemptInput): Promise<AttemptResult> {
    let r: AttemptResult;
    // Remote-cache problems of this attempt: told as they happen, and recorded with the step's outcome.
    const cacheWarnings: string[] = [];
    const { step, attempt } = input;
    // Attempt 1 starts the log afresh; a later one appends to what its tally has seen (none: the log is read back).
    const tally = attempt === 1 ? new LogTally() : this.#tallies.get(step.id);
    this.#tallies.delete(step.id);
    try {
      r = await this.#attempt(input, cacheWarnings, tally);
      if (cacheWarnings.length > 0) r = { ...r, cacheWarnings };
    } catch (e) {
      // The step's log could not be written (a full disk, a deleted run folder): the step fails with that.
      if (!isIoError(e)) throw e;
      return failure(ioFault(e, e.path ?? this.#o.runDir.logPath(step.id)), false);
    }
    const logFile = tally?.record(`logs/${step.id}.log`);
    if (logFile) {
      r = { ...r, logFile };
      if (r.status === 'failed' && r.retryable && attempt < step.retry.attempts) this.#tallies.set(step.id, tally!);
    }
    // Error messages (a provider may echo a key) and key parts (a prompt may hold a secret) go to the terminal and
    // `run --json` as well as to files: masked here already. The text stays as it is: dependents may need it.
    const redactor = this.#o.redactor;
    if (!redactor.isActive) return r;
    return {
      ...r,
      ...(r.error ? { error: { ...r.error, message: redactor.redact(r.error.message) } } : {}),
      ...(r.cacheKeyParts ? { cacheKeyParts: redactor.redactValue(r.cacheKeyParts) } : {}),
    };
  }

  async #attempt({ step, attempt, signal, context }: AttemptInput, cacheWarnings: string[], tally: LogTally | undefined): Promise<AttemptResult> {
    const binding = this.#o.bindings.get(step.instance?.of ?? step.id);
    if (!binding) throw new Error(`LLM step "${step.id}" has no provider binding`);
    const config = binding.provider.config;
    let req: ChatRequest;
    try {
      req = buildRequest(step, config, context);
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      return failure({ code: 'expression', message: e.message }, false);
    }
    if (req.model.trim() === '') return failure({ code: 'provider', message: 'model is empty once its expressions are rendered' }, false);

    const parts = keyParts(config, req);
    const key = cacheKey(parts);
    const keyed = { cacheKey: key, cacheKeyParts: parts };
    const log = new LlmLog(this.#o.runDir.logPath(step.id), attempt, this.#o.redactor, tally);
    const tell = (problem: string) => {
      this.#o.warn(`step "${step.id}": ${problem}`);
      log.write(`cache: ${problem}\n`);
      cacheWarnings.push(problem);
    };
    try {
      const { url, body } = binding.provider.describe(req);
      log.write(`--- request (attempt ${attempt}) to provider "${config.name}" (${config.type}) ---\nPOST ${url}\n${JSON.stringify(body, null, 2)}\ncache key: ${key}\n`);

      const cache = step.cache ? this.#o.cache : undefined;
      if (!step.cache) log.write('cache: off for this step (cache: false)\n');
      else if (this.#o.noCache) log.write('cache: not read (--no-cache)\n');
      else if (this.#o.force.has(step.id) || (step.instance !== undefined && this.#o.force.has(step.instance.of))) log.write('cache: not read (--force)\n');
      else if (cache) {
        const found = await cache.lookup(key);
        found.problems.forEach(tell);
        if (found.kind === 'corrupt') {
          this.#o.warn(`step "${step.id}": ${found.problem}`);
          log.write(`cache: ${found.problem}\n`);
        } else if (found.kind === 'hit') {
          const a = found.answer;
          log.write(`--- cache hit${found.source === 'remote' ? ' (remote cache)' : ''}: answer stored ${a.stored_at}, finish_reason ${a.finish_reason}${a.usage ? `, ${tokens(a.usage)}` : ''}; no request sent ---\n${a.text}\n`);
          return { ...answered(step, a.text, undefined), cached: true, cacheSource: found.source, ...keyed };
        } else {
          log.write('cache: miss\n');
        }
      }
      if (this.#o.offline) {
        const message = `--offline, and no cached answer for this request (cache key ${key.slice(0, 12)}…)`;
        log.write(`--- failed: ${message} ---\n`);
        return { ...failure({ code: 'provider', message }, false), ...keyed };
      }

      const timeoutMs = llmTimeoutMs(step, config.timeoutMs);
      await log.flush(); // the request is in the log while its answer is awaited
      const outcome = await request(binding, req, { signal, timeoutMs, idleTimeoutMs: step.idleTimeoutMs, mask: (t) => this.#o.redactor.redact(t) });
      if ('aborted' in outcome) {
        if (outcome.partial) log.write(`--- partial response ---\n${outcome.partial}\n`);
        const error = abortError(outcome.aborted, timeoutMs, step.idleTimeoutMs);
        log.write(`--- ${outcome.aborted === 'cancelled' ? 'cancelled' : 'failed'}: ${error.message} ---\n`);
        const status = outcome.aborted === 'cancelled' ? 'cancelled' : 'failed';
        return { ...failure(error, outcome.aborted !== 'cancelled'), status, ...keyed };
      }
      if ('error' in outcome) {
        const e = outcome.error;
        if (outcome.partial) log.write(`--- partial response ---\n${outcome.partial}\n`);
        const tooLong = e.retryAfterMs !== undefined && e.retryAfterMs > MAX_RETRY_AFTER_MS;
        const message = `provider "${config.name}": ${e.message}${tooLong ? ` (asked to retry after ${formatDuration(e.retryAfterMs!)}: not waiting that long)` : ''}`;
        log.write(`--- failed: ${message} ---\n`);
        return {
          ...failure({ code: e.isTimeout ? 'timeout' : 'provider', message }, e.retryable && !tooLong),
          ...(e.retryAfterMs !== undefined && !tooLong ? { retryAfterMs: e.retryAfterMs } : {}),
          ...keyed,
        };
      }

      const { answer, ms } = outcome;
      const usage = answer.usage;
      log.write(`--- response: finish_reason ${answer.rawFinishReason}${usage ? `, ${tokens(usage)}` : ''}, ${formatDuration(ms)} ---\n${answer.text}\n`);
      if (answer.finish === 'refusal') {
        // Masked before it is cut: a secret the cut went through would slip past the mask.
        const said = this.#o.redactor.redact((answer.refusal ?? answer.text).trim()).slice(0, 300);
        const message = `provider "${config.name}": the model refused (finish_reason ${answer.rawFinishReason})${said ? `: ${said}` : ''}`;
        log.write(`--- failed: the model refused; not cached ---\n`);
        return { ...failure({ code: 'provider', message }, false), ...(usage ? { usage } : {}), ...keyed };
      }
      const result = { ...answered(step, answer.text, usage), cached: false, ...keyed };
      if (result.status !== 'succeeded') {
        log.write(`--- failed: ${result.error?.message}; not cached ---\n`);
        return result;
      }
      const broken = this.#o.checkContract?.(step, result.outputs);
      if (broken) log.write(`note: not cached: ${broken.message}\n`);
      else if (answer.finish !== 'stop') {
        // Said on the terminal too: the step succeeds with the text as it came, which a user would take for whole.
        this.#o.warn(`step "${step.id}": the answer ended with finish_reason ${answer.rawFinishReason}${answer.finish === 'length' ? ' (cut at max_tokens)' : ''}, not a complete answer: kept as the step's text, not cached`);
        log.write(`note: not cached: the answer ended with finish_reason ${answer.rawFinishReason}, not a complete answer\n`);
      }
      else if (cache) {
        try {
          const problems = await cache.store(key, {
            parts,
            answer: { text: answer.text, finish_reason: answer.rawFinishReason, ...(usage ? { usage } : {}), stored_at: new Date().toISOString() },
            metadata: { provider: config.type, model: req.model },
            redact: (v) => this.#o.redactor.redactValue(v),
          });
          log.write('cache: stored\n');
          problems.forEach(tell);
        } catch (e) {
          const problem = `could not store the answer in the response cache ${cache.dir}: ${(e as Error).message}`;
          this.#o.warn(`step "${step.id}": ${problem}`);
          log.write(`cache: ${problem}\n`);
        }
      }
      return result;
    } finally {
      await log.close();
    }
  }
}

/** The request of a step: its fields over its provider's, expressions rendered. */
function buildRequest(step: StepSpec, config: ResolvedProvider, context: EvalContext): ChatRequest {
  // resolve.ts has made sure one of the two models exists.
  const model = renderField((step.model ?? config.model)!, context);
  const systemSource = step.system ?? config.system;
  const system = systemSource === undefined ? undefined : renderField(systemSource, context);
  const temperature = step.temperature ?? config.temperature;
  const maxTokens = step.maxTokens ?? config.maxTokens;
  return {
    model,
    prompt: renderField(step.prompt!, context),
    ...(system ? { system } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
  };
}

/**
 * Everything that shapes the answer, with the values actually sent (null where the request leaves the choice to the
 * server): two requests that differ in any of these never share a cache entry.
 */
function keyParts(config: ResolvedProvider, req: ChatRequest): Record<string, unknown> {
  return {
    format: CACHE_FORMAT,
    provider: config.type,
    base_url: config.baseUrl,
    model: req.model,
    system: req.system ?? null,
    prompt: req.prompt,
    temperature: req.temperature ?? null,
    max_tokens: req.maxTokens ?? null,
  };
}

/** One attempt's request under the provider's limits, the attempt timeout and the idle timeout. */
async function request(binding: LlmBinding, req: ChatRequest, o: { signal: AbortSignal; timeoutMs: number; idleTimeoutMs?: number; mask: (text: string) => string }): Promise<Outcome> {
  const controller = new AbortController();
  let why: Aborted | undefined;
  const stop = (reason: Aborted) => {
    if (why) return; // the first reason wins
    why = reason;
    controller.abort();
  };
  const onAbort = () => stop('cancelled');
  if (o.signal.aborted) return { aborted: 'cancelled', partial: '' };
  o.signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let idle: NodeJS.Timeout | undefined;
  let partial = '';
  let started = Date.now();
  const stopped = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }));
  stopped.catch(() => {}); // read through `why`
  try {
    const answer = await binding.limiter.run(o.signal, () => {
      // The clock starts when the request does, not while it waits for the provider's limits.
      started = Date.now();
      timer = setTimeout(() => stop('timeout'), o.timeoutMs);
      if (o.idleTimeoutMs !== undefined) idle = setTimeout(() => stop('idle-timeout'), o.idleTimeoutMs);
      const chat = binding.provider.chat(req, {
        signal: controller.signal,
        timeoutMs: o.timeoutMs,
        mask: o.mask,
        onData: (text) => {
          partial += text;
          idle?.refresh();
        },
      });
      // A deadline holds even if a client does not notice its signal: once stopped, the request is not waited for.
      return Promise.race([chat, stopped]);
    });
    if (why) return { aborted: why, partial };
    return { answer, ms: Date.now() - started };
  } catch (e) {
    if (why) return { aborted: why, partial };
    if (e instanceof WaitCancelled) return { aborted: 'cancelled', partial };
    if (e instanceof ProviderError) return { error: e, partial };
    // Not one of the failures the client module knows: still a failed step with the message, never a crash.
    return { error: new ProviderError(`unexpected error from the ${binding.provider.config.type} client: ${thrownMessage(e)}`, { retryable: false }), partial };
  } finally {
    clearTimeout(timer);
    clearTimeout(idle);
    o.signal.removeEventListener('abort', onAbort);
  }
}

function abortError(why: Aborted, timeoutMs: number, idleTimeoutMs: number | undefined): StepError {
  switch (why) {
    case 'timeout':
      return { code: 'timeout', message: `no complete answer within ${formatDuration(timeoutMs)}` };
    case 'idle-timeout':
      return { code: 'idle-timeout', message: `streamed nothing for ${formatDuration(idleTimeoutMs ?? 0)}` };
    case 'cancelled':
      return { code: 'cancelled', message: 'cancelled while waiting for the provider' };
    default: {
      const never: never = why;
      throw new Error(`unknown abort reason ${String(never)}`);
    }
  }
}

/** A successful answer as a step result: the text, and for `output: json` its parsed object. */
function answered(step: StepSpec, raw: string, usage: TokenUsage | undefined): AttemptResult {
  const text = raw.trim();
  const base = { exitCode: null, text, ...(usage ? { usage } : {}) };
  if (step.output !== 'json') return { ...base, status: 'succeeded', outputs: {}, retryable: false };
  const parsed = parseJsonOutput(unfence(text));
  if ('error' in parsed) return { ...base, status: 'failed', outputs: {}, error: { code: 'output', message: parsed.error.replace(/stdout/g, 'the response') }, retryable: false };
  return { ...base, status: 'succeeded', outputs: parsed.outputs, retryable: false };
}

/** Models often wrap JSON in a Markdown code fence; an answer that is exactly one fenced block is read as its content. */
function unfence(text: string): string {
  const m = /^```[A-Za-z0-9_-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```$/.exec(text);
  return m ? m[1]! : text;
}

function tokens(u: TokenUsage): string {
  return `${u.input_tokens} input / ${u.output_tokens} output tokens`;
}

function failure(error: StepError, retryable: boolean): AttemptResult {
  return { status: 'failed', exitCode: null, text: '', outputs: {}, error, retryable };
}
