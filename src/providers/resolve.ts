import { OrchestratorError, type Diagnostic } from '../errors.js';
import type { JobSpec, StepSpec } from '../specfile/model.js';
import { baseUrlProblem, isHttpUrl, unknownProviderMessage } from '../specfile/provider-checks.js';
import { PROVIDER_TYPES, type ProviderType, type ResolvedProvider } from './provider.js';

/** Per-request timeout when neither the step nor its provider sets `timeout`. */
export const DEFAULT_LLM_TIMEOUT_MS = 120_000;
/**
 * An LLM request's time limit, the nearest setting first: the step's own `timeout`, else its provider's, else
 * `defaults:`'s, else DEFAULT_LLM_TIMEOUT_MS. (A `defaults: timeout:` is mostly written for shell steps; a provider's
 * is written for its requests.) A request always has one: `timeout: none` (meant for shell steps) is skipped over.
 */
export function llmTimeoutMs(step: StepSpec, providerTimeoutMs: number | undefined): number {
  const written = step.timeoutMs !== undefined && Number.isFinite(step.timeoutMs) ? step.timeoutMs : undefined;
  return step.timeoutFromDefaults ? (providerTimeoutMs ?? written ?? DEFAULT_LLM_TIMEOUT_MS) : (written ?? providerTimeoutMs ?? DEFAULT_LLM_TIMEOUT_MS);
}


/** Anthropic requires max_tokens; this is what a request sends when nothing sets it (and what the cache key records). */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

const DEFAULT_BASE_URL: Record<ProviderType, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  ollama: 'http://127.0.0.1:11434',
  mlx: 'http://127.0.0.1:8080/v1', // mlx_lm.server's own default host and port
};

/** The usual key variables: their values are masked in every file even when a spec names another. */
const USUAL_KEY_ENV = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OLLAMA_API_KEY'];

/** Which provider each LLM step uses, and the providers that are used. */
export interface ProviderPlan {
  /** By provider name; only providers some step uses. */
  providers: Map<string, ResolvedProvider>;
  /** Step id → provider name. */
  stepProvider: Map<string, string>;
  /** Names of the variables holding keys, for the redactor. */
  secretNames: string[];
}

/**
 * Resolve every LLM step's provider (SPEC §5): its own `provider:`, else the only one declared, else `$ORCH_PROVIDER`
 * (a declared name, or a type used with its usual environment). Every problem — unknown provider, missing key
 * variable, no model, bad base_url — is collected and thrown as one OrchestratorError ('provider-config').
 * With `offline`, keys are not required: no request will be made.
 */
export function resolveProviders(spec: JobSpec, o: { env: NodeJS.ProcessEnv; offline: boolean }): ProviderPlan {
  const { env } = o;
  const problems: Diagnostic[] = [];
  const reported = new Set<string>();
  const report = (path: readonly PropertyKey[], message: string) => {
    if (reported.has(message)) return;
    reported.add(message);
    problems.push({ code: 'provider-config', message, file: spec.displayPath, ...spec.locate(path) });
  };
  const declared = Object.keys(spec.providers);
  const fromEnv = env.ORCH_PROVIDER?.trim() || undefined;
  const providers = new Map<string, ResolvedProvider>();
  const stepProvider = new Map<string, string>();

  for (const step of spec.steps) {
    if (step.kind !== 'llm') continue;
    const at = ['steps', step.id];
    let name: string;
    if (step.provider !== undefined) {
      if (!Object.hasOwn(spec.providers, step.provider)) {
        report([...at, 'provider'], unknownProviderMessage(step.id, step.provider, declared));
        continue;
      }
      name = step.provider;
    } else if (declared.length === 1) {
      name = declared[0]!;
    } else if (fromEnv !== undefined) {
      if (Object.hasOwn(spec.providers, fromEnv) || (PROVIDER_TYPES as readonly string[]).includes(fromEnv)) name = fromEnv;
      else {
        const names = declared.length > 0 ? ` (${declared.join(', ')})` : '';
        report(at, `$ORCH_PROVIDER is "${fromEnv}": neither a provider of this spec${names} nor one of ${PROVIDER_TYPES.join(', ')}`);
        continue;
      }
    } else {
      const why =
        declared.length === 0
          ? `declare one under \`providers:\`, or set $ORCH_PROVIDER to ${PROVIDER_TYPES.slice(0, -1).join(', ')} or ${PROVIDER_TYPES.at(-1)}`
          : `the spec declares ${declared.length} (${declared.join(', ')}); name one with \`provider:\` or set $ORCH_PROVIDER`;
      report(at, `steps.${step.id}: no provider: ${why}`);
      continue;
    }

    let config = providers.get(name);
    if (!config) {
      config = Object.hasOwn(spec.providers, name) ? declaredProvider(spec, name, o, report) : envProvider(name as ProviderType, at, o, report);
      providers.set(name, config);
    }
    if (step.model === undefined && config.model === undefined) {
      const where = Object.hasOwn(spec.providers, name) ? `on provider "${name}"` : 'on a provider under `providers:`';
      report(at, `steps.${step.id}: no model: set \`model:\` on the step, in \`defaults:\`, or ${where}`);
    }
    stepProvider.set(step.id, name);
  }

  if (problems.length > 0) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new OrchestratorError(problems);
  }
  const secretNames = new Set(USUAL_KEY_ENV);
  for (const p of Object.values(spec.providers)) if (p.api_key_env) secretNames.add(p.api_key_env);
  for (const p of providers.values()) if (p.apiKeyEnv) secretNames.add(p.apiKeyEnv);
  return { providers, stepProvider, secretNames: [...secretNames] };
}

type Report = (path: readonly PropertyKey[], message: string) => void;

/** A provider of the spec's `providers:`. Keys: `api_key_env` when given; else OPENAI_API_KEY for OpenAI itself (no base_url), ANTHROPIC_API_KEY for anthropic; none otherwise. */
function declaredProvider(spec: JobSpec, name: string, o: { env: NodeJS.ProcessEnv; offline: boolean }, report: Report): ResolvedProvider {
  const raw = spec.providers[name]!;
  const at = ['providers', name];
  const badUrl = raw.base_url === undefined ? undefined : baseUrlProblem(name, raw.base_url);
  if (badUrl) report([...at, 'base_url'], badUrl);
  const baseUrl = withoutTrailingSlash(raw.base_url ?? DEFAULT_BASE_URL[raw.type]);
  const keyEnv = raw.api_key_env ?? (raw.type === 'anthropic' ? 'ANTHROPIC_API_KEY' : raw.type === 'openai' && raw.base_url === undefined ? 'OPENAI_API_KEY' : undefined);
  const apiKey = keyEnv ? o.env[keyEnv] || undefined : undefined;
  if (keyEnv && apiKey === undefined && !o.offline) {
    const implied = raw.api_key_env === undefined ? ` (no \`api_key_env\`, so the usual variable for ${raw.type})` : '';
    report(raw.api_key_env !== undefined ? [...at, 'api_key_env'] : at, `providers.${name}: $${keyEnv} is not set${implied}: export the API key there`);
  }
  const odd = keyEnv && apiKey !== undefined ? unsendable(apiKey) : undefined;
  if (odd !== undefined) report(raw.api_key_env !== undefined ? [...at, 'api_key_env'] : at, `providers.${name}: $${keyEnv} holds a character an HTTP header cannot carry (at position ${odd + 1}): check the key you exported there`);
  return {
    name,
    type: raw.type,
    baseUrl,
    ...(keyEnv ? { apiKeyEnv: keyEnv } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    model: raw.model,
    system: raw.system,
    temperature: raw.temperature,
    maxTokens: raw.max_tokens ?? (raw.type === 'anthropic' ? ANTHROPIC_DEFAULT_MAX_TOKENS : undefined),
    timeoutMs: raw.timeout,
    concurrency: raw.concurrency,
    requestsPerMinute: raw.requests_per_minute,
  };
}

/** `$ORCH_PROVIDER=<type>` with that type's usual environment (SPEC §5). */
function envProvider(type: ProviderType, at: readonly PropertyKey[], o: { env: NodeJS.ProcessEnv; offline: boolean }, report: Report): ResolvedProvider {
  const { env } = o;
  let url: string | undefined;
  let keyEnv: string | undefined;
  let keyRequired = false;
  switch (type) {
    case 'openai':
      url = env.OPENAI_BASE_URL || undefined;
      keyEnv = 'OPENAI_API_KEY';
      keyRequired = url === undefined; // OpenAI itself needs a key; a compatible local server may not
      break;
    case 'anthropic':
      url = env.ANTHROPIC_BASE_URL || undefined;
      keyEnv = 'ANTHROPIC_API_KEY';
      keyRequired = true;
      break;
    case 'ollama':
      url = env.OLLAMA_HOST ? ollamaHost(env.OLLAMA_HOST) : undefined;
      break;
    case 'mlx':
      // mlx_lm.server reads no variable of its own and wants no key: MLX_BASE_URL is ours.
      url = env.MLX_BASE_URL || undefined;
      break;
    default: {
      const never: never = type;
      throw new Error(`unknown provider type ${String(never)}`);
    }
  }
  if (url !== undefined && !isHttpUrl(url)) report(at, `$ORCH_PROVIDER=${type}: "${url}" (from the environment) is not an http(s) URL`);
  const baseUrl = withoutTrailingSlash(url ?? DEFAULT_BASE_URL[type]);
  const apiKey = keyEnv ? env[keyEnv] || undefined : undefined;
  if (keyRequired && apiKey === undefined && !o.offline) report(at, `$ORCH_PROVIDER=${type}: $${keyEnv} is not set: export the API key there`);
  const odd = apiKey !== undefined ? unsendable(apiKey) : undefined;
  if (odd !== undefined) report(at, `$ORCH_PROVIDER=${type}: $${keyEnv} holds a character an HTTP header cannot carry (at position ${odd + 1}): check the key you exported there`);
  return { name: type, type, baseUrl, ...(apiKey !== undefined ? { apiKeyEnv: keyEnv, apiKey } : {}), ...(type === 'anthropic' ? { maxTokens: ANTHROPIC_DEFAULT_MAX_TOKENS } : {}) };
}

/** Where a key holds a character an HTTP header cannot carry (a key is printable ASCII), or undefined. */
function unsendable(key: string): number | undefined {
  const i = key.search(/[^\x21-\x7e]/);
  return i < 0 ? undefined : i;
}

/** OLLAMA_HOST as Ollama reads it: `host`, `host:port` or a URL; the port defaults to 11434 without a scheme. */
function ollamaHost(value: string): string {
  const v = value.trim();
  if (v.includes('://')) return v;
  try {
    const u = new URL(`http://${v}`);
    if (!u.port) u.port = '11434';
    return u.toString();
  } catch {
    return v;
  }
}

/** The URL without its trailing slashes. */
function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
