import fs from 'node:fs';
import { setJobRunning } from '../job-running.js';
import { OrchestratorError } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import type { JobOptions } from '../../job/run-job.js';
import { startJob } from '../../job/start-job.js';
import { declaredVar, setVars } from '../../job/vars.js';
import { chooseWorkers } from '../../job/workers-choice.js';
import type { ProcessLauncher } from '../../process/launcher.js';
import { MAX_CAPTURE_BYTES } from '../../process/step-process.js';
import { remoteCacheConfig } from '../../remote/config.js';
import { tryWrite } from '../../store/io-fault.js';
import type { JobSpec } from '../../specfile/model.js';
import { parseSpecArg } from '../../specfile/spec-arg.js';
import type { PlannedStep } from '../../job/dry-run.js';
import { selectTargets } from '../../job/targets.js';
import { runsDirOf } from '../options.js';
import { colorsFor } from '../render/color.js';
import { isLiveTerminal } from '../render/terminal.js';
import { PlainRenderer } from '../render/plain.js';
import { foldUntrusted, isGithubActions, maskCommands, stepAnnotations } from '../render/github-commands.js';
import { DEFAULT_TAIL_LINES, printSummary } from '../render/summary.js';
import { Redactor } from '../../store/redact.js';
import type { JobManifest } from '../../store/manifest.js';

/** The signals that cancel a job (SPEC §3): each is counted towards the second and third. */
export const CANCEL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Options of `orchestrator run`. */
export interface RunOptions {
  concurrency?: number;
  var?: string[];
  failFast?: boolean;
  cache?: boolean;
  force?: string[];
  forceAll?: boolean;
  /** Say what would run, cached or skipped, and run nothing. */
  dryRun?: boolean;
  /** Run again whenever a declared input changes. */
  watch?: boolean;
  offline?: boolean;
  cacheDir?: string;
  remoteCache?: string;
  remoteCacheReadOnly?: boolean;
  json?: boolean;
  junit?: string;
  /** Append a Markdown summary of the job to this file (under GitHub Actions: $GITHUB_STEP_SUMMARY). */
  summary?: string;
  quiet?: boolean;
  /** Log lines the summary shows per failed step. */
  tail?: number;
  runsDir?: string;
  workers?: string;
  local?: boolean;
  bucket?: string;
}

/** Something a user should know about how a job was started (resume/rerun): printed on stderr, and in `--json` as `notices`. */
export interface Notice {
  code: 'spec-changed' | 'spec-gone';
  message: string;
}

/** `--var k=v` pairs over the spec's vars: only declared vars, so that a typo is an error rather than an unused value. */
export function applyVars(spec: JobSpec, pairs: string[] = []): void {
  const values: [string, unknown][] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new OrchestratorError({ code: 'usage', message: `--var expects key=value, got "${pair}"` });
    values.push([pair.slice(0, eq), asDeclared(spec, pair.slice(0, eq), pair.slice(eq + 1))]);
  }
  setVars(spec, values, '--var');
}

/**
 * A `--var` value for a var the spec declares as a mapping or a list: JSON of the same kind (`--var 'cfg={"a": 2}'`),
 * never the text itself, which expressions would read no field of. Other vars take the text as it is.
 */
function asDeclared(spec: JobSpec, name: string, text: string): unknown {
  const key = declaredVar(spec, name);
  const declared = key === undefined ? undefined : spec.vars[key];
  if (declared === null || typeof declared !== 'object') return text;
  const kind = Array.isArray(declared) ? 'a list' : 'a mapping';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) !== Array.isArray(declared)) {
    throw new OrchestratorError({ code: 'usage', message: `--var ${name}: vars.${key} is ${kind} in the spec: give ${kind} as JSON (--var '${name}=${Array.isArray(declared) ? '["a", "b"]' : '{"key": "value"}'}')` });
  }
  return value;
}

/** `orchestrator run <spec> [steps…]`: 0 succeeded, 1 a step failed, 130 cancelled. Named steps run with what they need, nothing else. */
export async function runCommand(file: string, targets: string[], opts: RunOptions): Promise<number> {
  const load = async () => {
    const spec = await parseSpecArg(file);
    applyVars(spec, opts.var);
    checkForced(spec, opts.force);
    return { spec, selected: selectTargets(spec, targets) };
  };
  if (opts.dryRun) {
    if (opts.watch) throw new OrchestratorError({ code: 'usage', message: '--dry-run and --watch do not go together' });
    const { spec, selected } = await load();
    const { planDryRun } = await import('../../job/dry-run.js');
    const plan = await planDryRun({ spec, selected, runsDir: runsDirOf(opts), cacheDir: opts.cacheDir, noCache: opts.cache === false, force: opts.force ?? [], forceAll: opts.forceAll ?? false });
    if (opts.json) process.stdout.write(`${JSON.stringify({ dry_run: true, name: spec.name, steps: plan }, null, 2)}\n`);
    else process.stdout.write(renderPlan(plan));
    return 0;
  }
  if (opts.watch) {
    if (file === '-' || file === '/dev/stdin') throw new OrchestratorError({ code: 'usage', message: '--watch needs a spec file, not stdin' });
    // --json promises one JSON document; --watch would print one per job.
    if (opts.json) throw new OrchestratorError({ code: 'usage', message: '--watch and --json do not go together (each job is recorded: show <job> --json)' });
    const { watchRuns } = await import('./watch.js');
    return watchRuns({ load: async () => (await load()).selected, run: (spec, sink) => executeJob(spec, opts, { sinks: [sink] }), runsDir: runsDirOf(opts), say: (line) => process.stderr.write(`${line}\n`) });
  }
  return executeJob((await load()).selected, opts, {});
}

/** The plan of `run --dry-run`, one line per step. */
function renderPlan(plan: PlannedStep[]): string {
  const width = Math.max(...plan.map((p) => p.step.length));
  return plan.map((p) => `${p.plan.padEnd(9)}  ${p.step.padEnd(width)}  ${p.reason}${p.cache_key ? ` (key ${p.cache_key.slice(0, 12)}…)` : ''}\n`).join('');
}

/** Run a checked spec with the CLI's renderers and signal handling (shared by run, resume and rerun). */
export async function executeJob(spec: JobSpec, opts: RunOptions, extra: Pick<JobOptions, 'reuse'> & { notices?: Notice[]; sinks?: EventSink[] }): Promise<number> {
  const { notices = [], sinks: extraSinks = [], ...jobExtra } = extra;
  checkReportFile('--junit', opts.junit);
  checkReportFile('--summary', opts.summary);
  const workers = chooseWorkers({ spec, redisUrl: opts.workers, bucketUrl: opts.bucket, local: opts.local, env: process.env });
  // resume and rerun run the job's copy of the spec; a worker runs the file at its path in its own checkout, and
  // refuses a step whose spec differs: said here, once, rather than by every step.
  const moved = workers ? notices.find((n) => n.code === 'spec-changed' || n.code === 'spec-gone') : undefined;
  if (moved) {
    const what = moved.code === 'spec-gone' ? `the spec file ${spec.path} is gone` : `the spec changed since this job (${spec.path})`;
    throw new OrchestratorError({
      code: 'usage',
      message: `${what}, and workers run that file from their own checkouts, not the job's copy: every step would be refused. Put the file back as the job ran it (its copy is in the job's run folder, under inputs/), run here with --local, or \`run\` the spec to take your edits`,
    });
  }
  const remoteCache = remoteCacheConfig(opts);
  // Progress goes to stdout, or to stderr when stdout carries --json (the runner reads workflow commands from both).
  const progress = opts.json ? process.stderr : process.stdout;
  const github = isGithubActions();
  // Before anything else is printed: from here on the runner masks these values in the job's log.
  if (github) for (const line of maskCommands(Redactor.fromEnv(spec.secrets).values)) progress.write(`${line}\n`);
  for (const n of notices) process.stderr.write(`note: ${n.message}\n`);
  const colors = colorsFor(progress);
  const sinks: EventSink[] = [...extraSinks];
  const stepIds = spec.steps.map((s) => s.id);
  // A live view only where a person watches: a terminal, outside CI; plain lines for logs and pipes.
  // (Loaded only then: the live view's libraries cost start-up time that a CI log does not need to pay.)
  const live = !opts.quiet && isLiveTerminal(progress) ? new (await import('../render/live.js')).LiveRenderer({ out: progress, colors, stepIds }) : undefined;
  if (live) sinks.push(live);
  else if (!opts.quiet) sinks.push(new PlainRenderer(progress, colors, stepIds));

  const controller = new AbortController();
  const kill = new AbortController(); // the second signal: not even a cleanup step (if: always()) starts after it
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
      kill.abort();
      launcher?.killAllNow();
    } else {
      say(`${sig} a third time: exiting now; the job's records stop here (show reports it interrupted)`);
      process.exit(130);
    }
  };
  // SIGHUP (a closed terminal, a lost SSH session) is a cancel like the others: the job is still recorded.
  for (const sig of CANCEL_SIGNALS) process.on(sig, onSignal);
  // From here a reader that stops reading our output (`run … | head`) does not end the job (cli/main.ts).
  setJobRunning(true);
  try {
    const outcome = await startJob({
      spec,
      runsDir: runsDirOf(opts),
      concurrency: opts.concurrency,
      failFast: opts.failFast,
      cacheDir: opts.cacheDir,
      remoteCache,
      noCache: opts.cache === false,
      force: opts.force,
      forceAll: opts.forceAll,
      offline: opts.offline,
      sinks,
      signal: controller.signal,
      killSignal: kill.signal,
      warn: (message) => process.stderr.write(`warning: ${message}\n`),
      onLauncher: (l) => (launcher = l),
      workers,
      ...jobExtra,
    });
    live?.close();
    printSummary({ out: progress, colors, manifest: outcome.manifest, runDir: outcome.runDir.root, tail: opts.tail, wrapLog: github ? foldUntrusted : undefined });
    if (github) for (const line of stepAnnotations(outcome.manifest)) progress.write(`${line}\n`);
    for (const w of outcome.warnings) process.stderr.write(`warning: ${w}\n`);
    // The job's records could not be written: one line that says where and why (the summary shows what was recorded).
    if (outcome.fault) process.stderr.write(`orchestrator: ${outcome.fault.message}: the job failed, recorded as far as the disk allowed\n`);
    if (opts.junit !== undefined) {
      const junit = opts.junit;
      const { writeJunit } = await import('../render/junit.js');
      let failed;
      try {
        failed = tryWrite(junit, () => writeJunit(junit, outcome.manifest, outcome.runDir.root));
      } catch (e) {
        // A file it cannot write (exit 2); a cancelled job still ends as cancelled (130), as with --summary.
        if (!(e instanceof OrchestratorError) || outcome.status !== 'cancelled') throw e;
        process.stderr.write(`${e.message}\n`);
        return 130;
      }
      if (failed) {
        process.stderr.write(`orchestrator: --junit: ${failed.message}\n`);
        return outcome.status === 'cancelled' ? 130 : 1;
      }
    }
    const summaryFailed = await writeSummary({ opts, github, spec, manifest: outcome.manifest, runDir: outcome.runDir.root });
    if (summaryFailed) return outcome.status === 'cancelled' ? 130 : 1;
    if (opts.json) process.stdout.write(`${JSON.stringify(notices.length > 0 ? { ...outcome.manifest, notices } : outcome.manifest, null, 2)}\n`);
    return outcome.status === 'succeeded' ? 0 : outcome.status === 'cancelled' ? 130 : 1;
  } finally {
    setJobRunning(false);
    live?.close();
    // The job is recorded (or never started): a signal from here to the exit ends the process at once, as
    // cancelled, rather than by the signal's default action, which would leave the exit unexplained.
    for (const sig of CANCEL_SIGNALS) {
      process.off(sig, onSignal);
      process.off(sig, exitCancelled); // once only, however many jobs --watch runs
      process.on(sig, exitCancelled);
    }
  }
}

/**
 * `--summary FILE`, else under GitHub Actions $GITHUB_STEP_SUMMARY: append the job's Markdown summary there.
 * True when it could not be written (said on stderr).
 */
async function writeSummary({ opts, github, spec, manifest, runDir }: { opts: RunOptions; github: boolean; spec: JobSpec; manifest: JobManifest; runDir: string }): Promise<boolean> {
  const file = opts.summary ?? (github ? process.env.GITHUB_STEP_SUMMARY || undefined : undefined);
  if (file === undefined) {
    if (github) process.stderr.write('warning: GITHUB_ACTIONS is true but GITHUB_STEP_SUMMARY is not set: no job summary written\n');
    return false;
  }
  const { appendJobSummary } = await import('../render/job-summary.js');
  let fitted = true;
  const failed = tryWrite(file, () => (fitted = appendJobSummary(file, { manifest, steps: spec.steps, runDir, tail: opts.tail ?? DEFAULT_TAIL_LINES })));
  if (failed) process.stderr.write(`orchestrator: --summary ${file}: ${failed.message}\n`); // the message says what could not be written, and why
  else if (!fitted) process.stderr.write(`warning: no job summary written: ${file} already holds nearly 1 MiB, GitHub's limit\n`);
  return failed !== undefined;
}

/**
 * `--junit FILE` and `--summary FILE` are written once the job is recorded: what cannot be a file to write is said
 * before any step runs. Empty (an unset variable in CI) names no file; a folder cannot be written; a named pipe would
 * hold the process in its open, deaf to Ctrl-C, until something reads it. (A device such as /dev/stdout is fine.)
 */
function checkReportFile(option: string, file: string | undefined): void {
  if (file === undefined) return;
  if (file === '') throw new OrchestratorError({ code: 'usage', message: `${option} must name a file, not be empty` });
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return; // said when it is written, with the system's reason
  }
  if (st?.isDirectory()) throw new OrchestratorError({ code: 'usage', message: `${option} ${file} is a folder: name a file` });
  if (st?.isFIFO()) throw new OrchestratorError({ code: 'usage', message: `${option} ${file} is a named pipe: name a file` });
}

/** `--force` names steps of the spec: a typo must not run nothing quietly. */
export function checkForced(spec: JobSpec, ids: string[] = []): string[] {
  const known = spec.steps.map((s) => s.id);
  for (const id of ids) {
    if (!known.includes(id)) throw new OrchestratorError({ code: 'usage', message: `--force: the spec has no step "${id}" (its steps: ${known.join(', ')})` });
  }
  return ids;
}

function exitCancelled(): never {
  process.exit(130);
}
