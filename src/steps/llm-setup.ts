import type { ContractCheck } from './contract.js';
import { OrchestratorError } from '../errors.js';
import { ProviderLimiter } from '../providers/limit.js';
import type { ProviderFactory, ProviderType } from '../providers/provider.js';
import { resolveProviders } from '../providers/resolve.js';
import type { JobSpec } from '../specfile/model.js';
import { cacheDirOf, oldCacheNotice, ResponseCache, type AnswerLayer } from '../store/cache.js';
import type { Redactor } from '../store/redact.js';
import type { RunDir } from '../store/run-dir.js';
import { LlmExecutor, type LlmBinding } from './llm.js';
import type { StepExecutor } from './types.js';

/** What `run` needs for a spec with LLM steps. */
export interface PreparedLlm {
  /** Builds the job's LLM executor once its run folder and redactor exist. */
  executor: (runDir: RunDir, redactor: Redactor) => StepExecutor;
  /** Variables holding provider keys: their values are masked in every file. */
  secretNames: string[];
}

/**
 * Everything LLM steps need, checked before any step runs (exit 2 on a problem, no run folder): each step's
 * provider, keys and model; the response cache folder; and the client packages of the provider types the spec
 * uses, and only those (a shell-only spec never gets here).
 */
export async function prepareLlm(
  spec: JobSpec,
  o: { runsDir: string; cacheDir?: string; cacheLayer?: AnswerLayer; noCache: boolean; offline: boolean; force?: readonly string[]; checkContract?: ContractCheck; warn?: (message: string) => void },
): Promise<PreparedLlm> {
  if (o.offline && o.noCache) {
    throw new OrchestratorError({ code: 'usage', message: '--offline answers only from the cache, and --no-cache does not read it: use one of them' });
  }
  // --force <prompt step>: its answer is asked for again (and stored), as a forced run step runs again.
  const force = new Set((o.force ?? []).filter((id) => spec.steps.some((s) => s.id === id && s.kind === 'llm')));
  if (o.offline && force.size > 0) {
    throw new OrchestratorError({ code: 'usage', message: `--offline answers only from the cache, and --force ${[...force][0]} does not read it: use one of them` });
  }
  const plan = resolveProviders(spec, { env: process.env, offline: o.offline });
  const usesCache = spec.steps.some((s) => s.kind === 'llm' && s.cache);
  const cacheDir = usesCache ? cacheDirOf({ cacheDir: o.cacheDir }) : undefined;
  const cache = cacheDir === undefined ? undefined : ResponseCache.open(cacheDir, o.cacheLayer);
  const old = cacheDir === undefined ? undefined : oldCacheNotice(o.runsDir, cacheDir);
  if (old) o.warn?.(old);

  const factories = new Map<ProviderType, ProviderFactory>();
  for (const config of plan.providers.values()) {
    if (!factories.has(config.type)) factories.set(config.type, await loadFactory(config.type));
  }
  const byProvider = new Map<string, LlmBinding>();
  for (const [name, config] of plan.providers) {
    byProvider.set(name, {
      provider: factories.get(config.type)!(config),
      limiter: new ProviderLimiter({ concurrency: config.concurrency, requestsPerMinute: config.requestsPerMinute }),
    });
  }
  const bindings = new Map<string, LlmBinding>();
  for (const [stepId, name] of plan.stepProvider) bindings.set(stepId, byProvider.get(name)!);

  return {
    executor: (runDir, redactor) =>
      new LlmExecutor({ runDir, redactor, bindings, cache, noCache: o.noCache, force, offline: o.offline, checkContract: o.checkContract, warn: o.warn ?? (() => {}) }),
    secretNames: plan.secretNames,
  };
}

/** Import one provider's module (and with it its client package) only when a spec uses that type. */
async function loadFactory(type: ProviderType): Promise<ProviderFactory> {
  switch (type) {
    case 'openai':
    case 'mlx': // mlx_lm.server speaks OpenAI's chat completions
      return (await import('../providers/openai.js')).createOpenAiProvider;
    case 'anthropic':
      return (await import('../providers/anthropic.js')).createAnthropicProvider;
    case 'ollama':
      return (await import('../providers/ollama.js')).createOllamaProvider;
    default: {
      const never: never = type;
      throw new Error(`unknown provider type ${String(never)}`);
    }
  }
}
