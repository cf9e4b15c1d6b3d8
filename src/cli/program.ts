import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { OrchestratorError, type Diagnostic } from '../errors.js';
import { AGE_FORMS, parseAge } from '../specfile/duration.js';
import { INTERNAL_ERROR_EXIT, reportInternalError } from './crash.js';


function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port: a whole number from 0 (any free one) to 65535');
  return n;
}

function age(value: string): number {
  const ms = parseAge(value);
  if (ms === undefined) throw new InvalidArgumentError(`expected an age: ${AGE_FORMS}`);
  return ms;
}

function size(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a size: 500M, 2G, 10k, or bytes');
  return Math.floor(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()));
}

/** A folder option: an empty value (an unset variable in `--runs-dir "$X"`) would mean the current folder. */
function folder(value: string): string {
  if (value === '') throw new InvalidArgumentError('must name a folder, not be empty (leave the option out for the default)');
  return value;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const runsDirOption = () => new Option('--runs-dir <dir>', 'where runs are recorded (default: $ORCH_RUNS_DIR or ./runs)').argParser(folder);

/** The options of every command that runs a job (run, resume, rerun), declared once. */
function withRunOptions(cmd: Command): Command {
  return cmd
    .option('-c, --concurrency <n>', 'steps at once (default: the spec, else the number of CPUs)', positiveInt)
    .option('--fail-fast', 'stop at the first failure: cancel running steps, start nothing new')
    .option('--no-cache', 'read nothing from the cache (prompt answers, step results); fresh results are still stored')
    .option('--force <step>', 'run this step even when its result is cached (repeatable)', collect)
    .option('--force-all', 'run every cached run step even when its result is cached')
    .option('--offline', 'fail any LLM step whose answer is not cached')
    .option('--cache-dir <dir>', 'LLM response cache (default: $ORCH_CACHE_DIR, else your cache folder: ~/.cache/orchestrator, macOS ~/Library/Caches/orchestrator)', folder)
    .option('--remote-cache <s3-url>', 'also a shared cache in s3://bucket/prefix, signed with $ORCH_REMOTE_CACHE_KEY (default: $ORCH_REMOTE_CACHE)')
    .option('--remote-cache-read-only', 'read the remote cache, never write to it (for untrusted builds such as pull requests)')
    .option('--json', "print the job's manifest as JSON on stdout (progress goes to stderr)")
    .option('--junit <file>', 'also write JUnit XML, one test case per step')
    .option('--summary <file>', 'also append a Markdown summary of the job (default under GitHub Actions: $GITHUB_STEP_SUMMARY)')
    .option('-q, --quiet', 'print only the end-of-run summary')
    .option('--tail <n>', 'log lines the summary shows of each failed step (default: 10)', positiveInt)
    .option('--workers <redis-url>', "run shell steps on workers that take them from this Redis (default: $ORCH_WORKERS, else the spec's workers.redis)")
    .option('--bucket <s3-url>', "with workers: the bucket artifacts travel through, s3://bucket/prefix (default: $ORCH_BUCKET, else the spec's workers.bucket)")
    .option('--local', "run every step on this machine, even when $ORCH_WORKERS or the spec's `workers:` name workers")
    .addOption(runsDirOption());
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** The exit code the command's action returned. */
let exitCode = 0;
const done = (code: number) => {
  exitCode = code;
};

function buildProgram(version: string): Command {
  const program = new Command('orchestrator')
    .description('Run a DAG of shell and LLM steps from a YAML spec, and record every run.')
    .version(version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      examples([
        'orchestrator run examples/tiny_spec.yaml',
        'orchestrator show latest --events',
        'orchestrator list-runs --status failed',
      ]),
    );

  withRunOptions(
    program
      .command('run')
      .description('run a job: live progress on a terminal, one plain line per event otherwise')
      .argument('<spec>', 'the spec file (YAML or JSON); - (or /dev/stdin) reads it from stdin')
      .argument('[steps...]', 'run only these steps and what they need (default: every step)')
      .option('--var <key=value>', 'override a var the spec declares (repeatable)', collect)
      .option('--dry-run', 'say which steps would run, be restored from the cache or be skipped, and why; run nothing')
      .option('--watch', 'run again whenever a declared input of a cached step (or the spec) changes; Ctrl-C ends it'),
  )
    .addHelpText('after', examples(['orchestrator run examples/tiny_spec.yaml', 'orchestrator run ci.yaml build test', 'orchestrator run ci.yaml --dry-run', 'orchestrator run ci.yaml --concurrency 4 --fail-fast', 'orchestrator run pipeline.yaml --var project=notes --json > manifest.json']))
    .action(async (spec: string, steps: string[], opts) => done(await (await import('./commands/run.js')).runCommand(spec, steps, opts)));

  program
    .command('validate')
    .description('check a spec; print every problem as file:line:col: message')
    .argument('<spec>', 'the spec file; - reads it from stdin')
    .option('--json', 'print {ok, problems[]} as JSON')
    .addOption(runsDirOption())
    .addHelpText('after', examples(['orchestrator validate examples/tiny_spec.yaml', 'orchestrator validate spec.yaml --json']))
    .action(async (spec: string, opts) => done(await (await import('./commands/validate.js')).validateCommand(spec, opts)));

  program
    .command('graph')
    .description('print the DAG of a spec')
    .argument('<spec>', 'the spec file; - reads it from stdin')
    .addOption(new Option('--format <format>', 'output format (ascii, alias text: layers drawn in the terminal)').choices(['mermaid', 'dot', 'ascii', 'text']).default('mermaid'))
    .addOption(runsDirOption())
    .addHelpText('after', examples(['orchestrator graph examples/tiny_spec.yaml --format ascii', 'orchestrator graph examples/tiny_spec.yaml', 'orchestrator graph spec.yaml --format dot | dot -Tsvg > dag.svg']))
    .action(async (spec: string, opts) => done(await (await import('./commands/graph.js')).graphCommand(spec, opts)));

  program
    .command('show')
    .description("a job's summary, events, files, logs or timeline")
    .argument('<job>', 'a job id, a unique prefix of one, or "latest"')
    .option('--events', 'the event journal')
    .option('--files', 'every file of the run folder with its SHA-256')
    .option('--logs <step>', "a step's log")
    .option('--tail <n>', 'with --logs: only its last n lines', positiveInt)
    .option('-f, --follow', 'with --logs: keep printing what a running step writes, until it ends')
    .option('--json', 'the manifest as JSON (with --events: plus an events array)')
    .option('--timeline', 'a Gantt chart of the steps on a time axis, critical path marked with *')
    .option('--why <step>', "hit or miss in the cache, and for a miss what changed since the step's last run")
    .addOption(runsDirOption())
    .addHelpText('after', examples(['orchestrator show latest', 'orchestrator show latest --events', 'orchestrator show latest --timeline', 'orchestrator show 20261121 --logs build', 'orchestrator show latest --logs test --follow', 'orchestrator show latest --why build', 'orchestrator show latest --json | jq .steps']))
    .action(async (job: string, opts) => done(await (await import('./commands/show.js')).showCommand(job, opts)));

  program
    .command('list-runs')
    .description('past jobs, newest first')
    .option('-n, --limit <n>', 'at most this many', positiveInt, 20)
    .addOption(new Option('--status <status>', 'only jobs with this status').choices(['running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'damaged']))
    .option('--json', 'an array of {job_id, name, status, started_at, duration_s, damaged?}')
    .addOption(runsDirOption())
    .addHelpText('after', examples(['orchestrator list-runs', 'orchestrator list-runs --status failed --limit 5', 'orchestrator list-runs --json']))
    .action(async (opts) => done(await (await import('./commands/list-runs.js')).listRunsCommand(opts)));

  program
    .command('report')
    .description('write report.html into the run folder (graph, timeline, steps, logs; one self-contained file) and print its path')
    .argument('<job>', 'a job id, a unique prefix of one, or "latest"')
    .option('--json', 'print {"path": <absolute path of report.html>}')
    .addOption(runsDirOption())
    .addHelpText('after', '\nreport.html is written after the job ended, so the manifest\'s files[] (made at job end) does not list it.\n' + examples(['orchestrator report latest', 'orchestrator report 20261121 --runs-dir ci/runs', 'xdg-open "$(orchestrator report latest)"']))
    .action(async (job: string, opts) => done(await (await import('./commands/report.js')).reportCommand(job, opts)));

  program
    .command('prune')
    .description('remove old run folders (never a running job), printing each and the space freed')
    .option('--older-than <age>', 'remove jobs started longer ago than this: 30d, 12h, 90m, 45s, or seconds', age)
    .option('--keep <n>', 'always keep the n newest jobs', nonNegativeInt)
    .option('--dry-run', 'say what would be removed; remove nothing')
    .option('--json', 'print {dry_run, removed[], freed_bytes, kept, running[], unreadable[]} as JSON')
    .addOption(runsDirOption())
    .addHelpText('after', '\nAt least one of --older-than and --keep; with both, jobs older than the age go except the n newest.\n' + examples(['orchestrator prune --older-than 30d', 'orchestrator prune --keep 20', 'orchestrator prune --older-than 7d --keep 5 --dry-run']))
    .action(async (opts) => done(await (await import('./commands/prune.js')).pruneCommand(opts)));

  program
    .command('schema')
    .description('print the JSON Schema of the spec format, for editors (yaml-language-server, VS Code)')
    .addHelpText('after', '\nIn a spec, point your editor at it with a first line such as\n  # yaml-language-server: $schema=./spec.schema.json\n' + examples(['orchestrator schema > spec.schema.json', 'orchestrator schema | jq .properties.steps']))
    .action(async () => done(await (await import('./commands/schema.js')).schemaCommand()));

  program
    .command('cache')
    .description('the cache of prompt answers and step results: stats (entries of each kind, size, per model), prune (evict least recently used) or clear (remove every entry)')
    .argument('<action>', 'stats, prune or clear', (v: string) => {
      if (v !== 'stats' && v !== 'clear' && v !== 'prune') throw new InvalidArgumentError('expected stats, prune or clear');
      return v;
    })
    .option('--max-size <size>', 'prune: evict until the cache holds at most this much (500M, 2G, bytes)', size)
    .option('--older-than <age>', 'prune: evict entries last used longer ago than this (30d, 12h, 90m, 45s, or seconds)', age)
    .option('--cache-dir <dir>', 'the cache (default: $ORCH_CACHE_DIR, else your cache folder: ~/.cache/orchestrator, macOS ~/Library/Caches/orchestrator)', folder)
    .option('--json', 'print the numbers as JSON')
    .addOption(runsDirOption())
    .addHelpText('after', examples(['orchestrator cache stats', 'orchestrator cache stats --json', 'orchestrator cache prune --max-size 2G --older-than 30d', 'orchestrator cache clear --cache-dir ci/llm-cache']))
    .action(async (action: string, opts) => done(await (await import('./commands/cache.js')).cacheCommand(action, opts)));

  withRunOptions(
    program
      .command('resume')
      .description("new job that reuses the old job's succeeded steps (files checked by SHA-256) and runs the rest")
      .argument('<job>', 'a job id, a unique prefix of one, or "latest"'),
  )
    .addHelpText('after', examples(['orchestrator resume latest', 'orchestrator resume 20261121-2148 --concurrency 1']))
    .action(async (job: string, opts) => done(await (await import('./commands/resume.js')).resumeCommand(job, opts)));

  withRunOptions(
    program
      .command('rerun')
      .description('new job that re-runs a step and (by default) everything downstream of it, reusing the rest')
      .argument('<job>', 'a job id, a unique prefix of one, or "latest"')
      .requiredOption('-s, --step <id>', 'the step to re-run (repeatable)', collect)
      .option('--no-cascade', 're-run only the named steps, not what depends on them'),
  )
    .addHelpText('after', examples(['orchestrator rerun latest --step build', 'orchestrator rerun latest --step docs --no-cascade', 'orchestrator rerun latest --step build --force build   # run it even when its result is cached']))
    .action(async (job: string, opts) => done(await (await import('./commands/resume.js')).rerunCommand(job, opts)));

  program
    .command('ui')
    .description('serve a local web app over the runs folder: every run, the current one live, logs, compare, actions')
    .option('--port <n>', 'the port (0: any free one)', port, 8420)
    .option('--host <host>', 'the address to listen on; any but loopback needs --token (one is generated if absent)', '127.0.0.1')
    .option('--token <token>', 'the token every request must carry (?token= once, then a cookie)')
    .option('--open', 'open the page in the default browser')
    .addOption(runsDirOption())
    .addHelpText('after', '\nBy default only this machine can reach it (127.0.0.1). The page shows runs of the runs folder and nothing else.\n' + examples(['orchestrator ui', 'orchestrator ui --port 0 --open', 'orchestrator ui --host 0.0.0.0 --runs-dir ci/runs']))
    .action(async (opts) => done(await (await import('./commands/ui.js')).uiCommand(opts)));

  program
    .command('worker')
    .description('take shell steps from a Redis queue and run them in this checkout (for runs with --workers)')
    .requiredOption('--redis <url>', 'the Redis the coordinators queue steps on: redis://host:port')
    .option('--concurrency <n>', 'steps at once (default: the number of CPUs)', positiveInt)
    .option('--tags <list>', 'comma-separated tags steps can ask for with runs_on: linux,gpu', (v: string) => v.split(',').map((t) => t.trim()).filter(Boolean))
    .option('--name <name>', 'how runs and `workers` name it (default: host-pid)')
    .option('--dir <dir>', 'the root of this checkout: spec paths are resolved from here (default: the current folder)')
    .addHelpText('after', examples(['orchestrator worker --redis redis://127.0.0.1:6379 --concurrency 4 --tags linux']))
    .action(async (opts) => done(await (await import('./commands/worker.js')).workerCommand(opts)));

  program
    .command('workers')
    .description('list the workers connected to a Redis, with their tags and load')
    .requiredOption('--redis <url>', 'the Redis: redis://host:port')
    .option('--json', 'print an array of {name, tags, concurrency, running, host, pid, started_at}')
    .addHelpText('after', examples(['orchestrator workers --redis redis://127.0.0.1:6379', 'orchestrator workers --redis redis://queue-host:6379 --json']))
    .action(async (opts) => done(await (await import('./commands/workers.js')).workersCommand(opts)));

  program
    .command('doctor')
    .description('what this installation uses and why: Node, platform, bash, how steps start, folders, provider SDKs')
    .option('--json', 'print the checks as JSON')
    .option('--cache-dir <dir>', 'the LLM response cache to check', folder)
    .option('--remote-cache <s3-url>', 'the remote cache to check (default: $ORCH_REMOTE_CACHE)')
    .option('--workers <redis-url>', 'also check the Redis of workers: reachable, noeviction, who is connected (default: $ORCH_WORKERS)')
    .option('--bucket <s3-url>', 'also check that the bucket answers (default: $ORCH_BUCKET)')
    .addOption(runsDirOption())
    .addHelpText('after', '\nExits 1 when something stops jobs from running as they should (marked ✗).\n' + examples(['orchestrator doctor', 'orchestrator doctor --json | jq -r .checks[].name']))
    .action(async (opts) => done(await (await import('./commands/doctor.js')).doctorCommand(version, opts)));

  return program;
}

/** Parse argv, run the command, and turn its outcome into an exit code. */
export async function runCli(argv: string[], version: string): Promise<number> {
  // A bug that escapes the command (an exception in a stream or timer callback) is reported the same way.
  const crash = (e: unknown) => {
    process.stderr.write(`${reportInternalError(e)}\n`);
    process.exit(INTERNAL_ERROR_EXIT);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  // A command that awaits what can no longer happen (a promise that nothing settles once its sockets and timers
  // are gone) would end with the event loop, silently, exit 0: a failure that looks like success. Said instead.
  let finished = false;
  process.once('beforeExit', () => {
    if (finished) return;
    process.stderr.write(`${reportInternalError(new Error('the command stopped before it finished: it was waiting for something that can no longer happen'))}\n`);
    process.exitCode = INTERNAL_ERROR_EXIT;
  });
  const program = buildProgram(version);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    // With --json, stdout carries exactly one JSON document, failures included (as `validate --json` has it).
    const json = asksForJson(argv);
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      const usage: Diagnostic = { code: 'usage', message: e.message.replace(/^error: /, '') };
      // Annotated as every other user error is: a typo in a workflow's arguments shows on the run's page.
      if (process.env.GITHUB_ACTIONS === 'true') (await import('./render/github-commands.js')).printDiagnosticAnnotations([usage], json);
      if (json) printProblems([usage]);
      return 2;
    }
    if (e instanceof OrchestratorError) {
      const [{ formatDiagnosticsWithFrames }, { colorsFor }] = await Promise.all([import('./render/code-frame.js'), import('./render/color.js')]);
      process.stderr.write(formatDiagnosticsWithFrames(e.diagnostics, colorsFor(process.stderr)));
      if (process.env.GITHUB_ACTIONS === 'true') (await import('./render/github-commands.js')).printDiagnosticAnnotations(e.diagnostics, json);
      if (json) printProblems(e.diagnostics);
      return 2;
    }
    const line = reportInternalError(e);
    process.stderr.write(`${line}\n`);
    if (json) printProblems([{ code: 'internal', message: line.replace(/^orchestrator: /, '') }]);
    return INTERNAL_ERROR_EXIT;
  } finally {
    finished = true;
  }
}

/** Whether the command line asks for `--json` (before a `--` that ends the options). */
function asksForJson(argv: string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** `{"ok": false, "problems": [...]}` on stdout: what a failed `--json` command prints. */
function printProblems(problems: (Diagnostic | { code: 'internal'; message: string })[]): void {
  process.stdout.write(`${JSON.stringify({ ok: false, problems }, null, 2)}\n`);
}

