import { OrchestratorError } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import { runJob, type JobOptions } from '../../scheduler/job.js';
import { killAllStepsNow } from '../../steps/shell.js';
import type { JobSpec } from '../../spec/model.js';
import { defaultConcurrency, parseSpec } from '../../spec/validate.js';
import { runsDirOf } from '../options.js';
import { colorsFor } from '../render/color.js';
import { PlainRenderer } from '../render/plain.js';
import { printSummary } from '../render/summary.js';

/** Options of `orchestrator run`. */
export interface RunOptions {
  concurrency?: number;
  var?: string[];
  failFast?: boolean;
  cache?: boolean;
  offline?: boolean;
  cacheDir?: string;
  json?: boolean;
  junit?: string;
  quiet?: boolean;
  runsDir?: string;
}

/** `--var k=v` pairs over the spec's vars. */
export function applyVars(spec: JobSpec, pairs: string[] = []): void {
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new OrchestratorError({ code: 'usage', message: `--var expects key=value, got "${pair}"` });
    spec.vars = { ...spec.vars, [pair.slice(0, eq)]: pair.slice(eq + 1) };
  }
}

/** `orchestrator run <spec>`: 0 succeeded, 1 a step failed, 130 cancelled. */
export async function runCommand(file: string, opts: RunOptions): Promise<number> {
  const spec = parseSpec(file);
  applyVars(spec, opts.var);
  return executeJob(spec, opts, {});
}

/** Run a checked spec with the CLI's renderers and signal handling (shared by run, resume and rerun). */
export async function executeJob(spec: JobSpec, opts: RunOptions, extra: Pick<JobOptions, 'reuse'>): Promise<number> {
  const concurrency = opts.concurrency ?? spec.concurrency ?? defaultConcurrency();
  const checkContract = spec.steps.some((s) => s.outputsSchema)
    ? (await import('../../steps/contract.js')).compileContracts(spec)
    : undefined;
  if (spec.steps.some((s) => s.kind === 'llm')) {
    throw new OrchestratorError({ code: 'provider-config', message: 'this build has no LLM providers yet', file: spec.displayPath });
  }

  // Progress goes to stdout, or to stderr when stdout carries --json.
  const progress = opts.json ? process.stderr : process.stdout;
  const colors = colorsFor(progress);
  const sinks: EventSink[] = [];
  if (!opts.quiet) sinks.push(new PlainRenderer(progress, colors, spec.steps.map((s) => s.id)));

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\n${sig}: cancelling running steps (again to stop at once)\n`);
      controller.abort();
    } else {
      process.stderr.write(`${sig} again: killing every step now\n`);
      killAllStepsNow();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runJob({
      spec,
      runsDir: runsDirOf(opts),
      concurrency,
      failFast: opts.failFast ?? spec.onFailure === 'stop',
      sinks,
      signal: controller.signal,
      checkContract,
      secretNames: spec.secrets,
      ...extra,
    });
    printSummary(progress, colors, outcome.manifest, outcome.runDir.root);
    if (opts.json) process.stdout.write(`${JSON.stringify(outcome.manifest, null, 2)}\n`);
    return outcome.status === 'succeeded' ? 0 : outcome.status === 'cancelled' ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
