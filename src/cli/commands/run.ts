import { OrchestratorError } from '../../errors.js';
import { didYouMean } from '../../util/suggest.js';
import type { EventSink } from '../../events/types.js';
import { runJob, type JobOptions } from '../../job/run-job.js';
import type { ProcessLauncher } from '../../process/launcher.js';
import { launcherChoice } from '../../process/launcher.js';
import { chooseSpawner } from '../../process/spawner.js';
import { MAX_CAPTURE_BYTES } from '../../process/step-process.js';
import type { JobSpec } from '../../specfile/model.js';
import { defaultConcurrency, parseSpec } from '../../specfile/validate.js';
import { runsDirOf } from '../options.js';
import { colorsFor } from '../render/color.js';
import { isLiveTerminal } from '../render/terminal.js';
import { PlainRenderer } from '../render/plain.js';
import { printSummary } from '../render/summary.js';

/** The signals that cancel a job (SPEC §3): each is counted towards the second and third. */
export const CANCEL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

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
  /** Log lines the summary shows per failed step. */
  tail?: number;
  runsDir?: string;
}

/** Something a user should know about how a job was started (resume/rerun): printed on stderr, and in `--json` as `notices`. */
export interface Notice {
  code: 'spec-changed' | 'spec-gone';
  message: string;
}

/** `--var k=v` pairs over the spec's vars: only declared vars, so that a typo is an error rather than an unused value. */
export function applyVars(spec: JobSpec, pairs: string[] = []): void {
  const declared = Object.keys(spec.vars);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new OrchestratorError({ code: 'usage', message: `--var expects key=value, got "${pair}"` });
    const name = pair.slice(0, eq);
    // Expressions read names case-insensitively: --var SERVICE=x sets the declared `service`.
    const key = declared.find((k) => k === name) ?? declared.find((k) => k.toLowerCase() === name.toLowerCase());
    if (key === undefined) throw new OrchestratorError({ code: 'usage', message: undeclaredVarMessage(name, declared) });
    spec.vars = { ...spec.vars, [key]: pair.slice(eq + 1) };
  }
}

function undeclaredVarMessage(name: string, declared: string[]): string {
  const which = declared.length === 0 ? 'the spec declares no vars' : `the spec declares ${declared.map((k) => `"${k}"`).join(', ')}`;
  return `--var ${name}: no such var (${which}; a var must be declared under \`vars:\` to be set)${didYouMean(name, declared)}`;
}

/** `orchestrator run <spec>`: 0 succeeded, 1 a step failed, 130 cancelled. */
export async function runCommand(file: string, opts: RunOptions): Promise<number> {
  const spec = parseSpec(file);
  applyVars(spec, opts.var);
  return executeJob(spec, opts, {});
}

/** Run a checked spec with the CLI's renderers and signal handling (shared by run, resume and rerun). */
export async function executeJob(spec: JobSpec, opts: RunOptions, extra: Pick<JobOptions, 'reuse'> & { notices?: Notice[] }): Promise<number> {
  const { notices = [], ...jobExtra } = extra;
  for (const n of notices) process.stderr.write(`note: ${n.message}\n`);
  const concurrency = opts.concurrency ?? spec.concurrency ?? defaultConcurrency();
  // How shell steps start ($ORCH_SPAWNER, else the helper where it loads): a bad choice fails here, before a run folder.
  if (spec.steps.some((s) => s.kind === 'shell')) {
    chooseSpawner();
    launcherChoice();
  }
  const checkContract = spec.steps.some((s) => s.outputsSchema)
    ? (await import('../../steps/contract.js')).compileContracts(spec)
    : undefined;
  // Providers, keys and the response cache are checked before any step runs; their packages load only for LLM specs.
  const llm = spec.steps.some((s) => s.kind === 'llm')
    ? await (await import('../../steps/llm-setup.js')).prepareLlm(spec, {
        runsDir: runsDirOf(opts),
        cacheDir: opts.cacheDir,
        noCache: opts.cache === false,
        offline: opts.offline ?? false,
        warn: (message) => process.stderr.write(`warning: ${message}\n`),
      })
    : undefined;

  // Progress goes to stdout, or to stderr when stdout carries --json.
  const progress = opts.json ? process.stderr : process.stdout;
  const colors = colorsFor(progress);
  const sinks: EventSink[] = [];
  const stepIds = spec.steps.map((s) => s.id);
  // A live view only where a person watches: a terminal, outside CI; plain lines for logs and pipes.
  // (Loaded only then: the live view's libraries cost start-up time that a CI log does not need to pay.)
  const live = !opts.quiet && isLiveTerminal(progress) ? new (await import('../render/live.js')).LiveRenderer({ out: progress, colors, stepIds }) : undefined;
  if (live) sinks.push(live);
  else if (!opts.quiet) sinks.push(new PlainRenderer(progress, colors, stepIds));

  const controller = new AbortController();
  let launcher: ProcessLauncher | undefined;
  let signals = 0;
  // While the live view draws, messages go through it so they do not tear its frame.
  const say = (line: string) => (live ? live.print(line) : process.stderr.write(`${line}\n`));
  // A step's text cut at the limit: said where the user looks (the event, manifest and outputs file record it too).
  sinks.push({
    emit: (e) => {
      if ((e.type === 'step.succeeded' || e.type === 'step.failed') && e.text_truncated) {
        say(`warning: step "${e.step}": stdout is over ${MAX_CAPTURE_BYTES / (1024 * 1024)} MiB; steps.${e.step}.text holds only its first ${MAX_CAPTURE_BYTES / (1024 * 1024)} MiB (the log has all of it)`);
      }
    },
  });
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      say(`\n${sig}: cancelling running steps (again to stop at once)`);
      controller.abort();
    } else if (signals === 2) {
      // Killed, not abandoned: the steps' outcomes arrive as cancelled and the job is recorded before exit 130.
      say(`${sig} again: killing every step now (once more to exit without recording the job)`);
      launcher?.killAllNow();
    } else {
      say(`${sig} a third time: exiting now; the job's records stop here (show reports it interrupted)`);
      process.exit(130);
    }
  };
  // SIGHUP (a closed terminal, a lost SSH session) is a cancel like the others: the job is still recorded.
  for (const sig of CANCEL_SIGNALS) process.on(sig, onSignal);
  try {
    const outcome = await runJob({
      spec,
      runsDir: runsDirOf(opts),
      concurrency,
      failFast: opts.failFast ?? spec.onFailure === 'stop',
      sinks,
      signal: controller.signal,
      checkContract,
      llm: llm?.executor,
      secretNames: [...spec.secrets, ...(llm?.secretNames ?? [])],
      onLauncher: (l) => (launcher = l),
      ...jobExtra,
    });
    live?.close();
    printSummary({ out: progress, colors, manifest: outcome.manifest, runDir: outcome.runDir.root, tail: opts.tail });
    if (opts.junit !== undefined) (await import('../render/junit.js')).writeJunit(opts.junit, outcome.manifest, outcome.runDir.root);
    if (opts.json) process.stdout.write(`${JSON.stringify(notices.length > 0 ? { ...outcome.manifest, notices } : outcome.manifest, null, 2)}\n`);
    return outcome.status === 'succeeded' ? 0 : outcome.status === 'cancelled' ? 130 : 1;
  } finally {
    live?.close();
    for (const sig of CANCEL_SIGNALS) process.off(sig, onSignal);
  }
}
