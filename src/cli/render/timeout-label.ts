import { DEFAULT_LLM_TIMEOUT_MS } from '../../providers/resolve.js';
import { formatDuration } from '../../specfile/duration.js';
import type { JobSpec, StepSpec } from '../../specfile/model.js';
import { DEFAULT_SHELL_TIMEOUT_MS, shellTimeoutMs } from '../../steps/shell.js';

/** A step's time limit per attempt for `show`: `30s`, `6h (default)`, `none`; for LLM steps the request's limit. */
export function timeoutLabel(step: StepSpec, spec: JobSpec): string {
  if (step.kind === 'shell') {
    const ms = shellTimeoutMs(step);
    if (ms === undefined) return 'none';
    return step.timeoutMs === undefined ? `${formatDuration(DEFAULT_SHELL_TIMEOUT_MS)} (default)` : formatDuration(ms);
  }
  // As llmTimeoutMs decides at run time: the step's own (unless none), the provider's, defaults:'s, the default.
  const written = step.timeoutMs !== undefined && Number.isFinite(step.timeoutMs) ? step.timeoutMs : undefined;
  if (written !== undefined && !step.timeoutFromDefaults) return formatDuration(written);
  const otherwise = written !== undefined ? formatDuration(written) : `${formatDuration(DEFAULT_LLM_TIMEOUT_MS)} (default)`;
  const names = Object.keys(spec.providers);
  // Which of several providers an unnamed step uses is $ORCH_PROVIDER's choice at run time.
  if (step.provider === undefined && names.length > 1) return `provider's, else ${otherwise}`;
  const providerMs = spec.providers[step.provider ?? names[0] ?? '']?.timeout;
  return providerMs === undefined ? otherwise : formatDuration(providerMs);
}
