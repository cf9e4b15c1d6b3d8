import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { parseDuration } from './duration.js';
import { MAX_TIMER_MS, MAX_TIMER_TEXT } from '../util/timer-limit.js';
import { redisUrlProblem } from '../util/redis-url.js';
import { FAN_OUT_CAP } from './matrix.js';

/** Step ids as SPEC §1 allows them. */
export const STEP_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

// zod/mini: the same zod, built for tree shaking, so that loading the schema costs little at start-up.
// jitless: a CLI parses one spec once; compiling parsers with new Function would cost more than it saves.
z.config({ ...en(), jitless: true });

const opt = z.optional;
const int = (min: number) => z.int().check(z.minimum(min));
const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.meta({ description })) as T;

/** A duration field: `500ms`, `30s`, `5m`, `1h` or seconds; with `orNone`, also `none` (or 0) for no limit, as Infinity. */
const durationField = (orNone: boolean) =>
  described(
    z.pipe(
      z.union([z.number().check(z.minimum(0)), z.string()]),
      z.transform((v: number | string, ctx) => {
        if (orNone && v === 'none') return Infinity;
        const ms = parseDuration(v);
        if (ms === undefined) {
          ctx.issues.push({ code: 'custom', message: `invalid duration ${JSON.stringify(v)} (use 500ms, 30s, 5m, 1h${orNone ? ', a number of seconds, or none' : ' or a number of seconds'})`, input: v });
          return z.NEVER;
        }
        // Past what a timer can wait, it would fire at once: refused, not quietly shortened.
        if (ms > MAX_TIMER_MS) {
          ctx.issues.push({ code: 'custom', message: `duration ${JSON.stringify(v)} is longer than ${MAX_TIMER_TEXT}, the longest this can wait${orNone ? ' (none: no time limit)' : ''}`, input: v });
          return z.NEVER;
        }
        return orNone && ms === 0 ? Infinity : ms;
      }),
    ),
    orNone ? 'a duration: 500ms, 30s, 5m, 1h, or a number of seconds; none (or 0) for no time limit' : 'a duration: 500ms, 30s, 5m, 1h, or a number of seconds',
  );
const duration = durationField(false);
/** A step's `timeout`: shell steps without one stop after 6 hours; `none` lifts that. */
const stepTimeout = durationField(true);

const retry = described(
  z.union([
    described(int(1), 'number of attempts'),
    z.strictObject({
      attempts: described(int(1), 'how many attempts in all, at least 1'),
      delay: opt(described(duration, 'wait before a retry (default 1s): 500ms, 30s, 5m, 1h or seconds')),
      backoff: opt(described(z.enum(['fixed', 'exponential']), 'fixed (default): the same delay each time; exponential: the delay doubles')),
      max_delay: opt(described(duration, 'longest wait between attempts with exponential backoff')),
    }),
  ]),
  'retries on failure: a number of attempts, or {attempts, delay, backoff, max_delay}',
);

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const envMap = z.record(z.string(), scalar);
const temperature = z.number().check(z.minimum(0), z.maximum(2));

/** Fields `defaults:` may set for every step. */
/** A model's name: blank is refused here, not by the server at the first request (an expression may still render blank: that fails the step). */
const modelName = z.string().check(z.regex(/\S/, 'must not be empty'));

const stepDefaults = {
  timeout: opt(described(stepTimeout, 'time limit of each attempt (500ms, 30s, 5m, 1h or seconds; default 6h; none for no limit); then SIGTERM, and SIGKILL 5 s later')),
  idle_timeout: opt(described(duration, 'fail an attempt that prints (or, for prompt steps, streams) nothing for this long')),
  retry: opt(retry),
  continue_on_error: opt(described(z.boolean(), 'a failure of this step neither fails the job nor skips the steps that need it')),
  shell: opt(described(z.string().check(z.minLength(1)), 'the shell of run: bash (default, with -e -o pipefail), sh (with -e), or a path; it gets the script with -c')),
  cwd: opt(described(z.string(), "working folder of run, relative to the spec's folder (default: the spec's folder)")),
  provider: opt(described(z.string(), 'name of the provider under providers: that prompt steps ask')),
  model: opt(described(modelName, "model of prompt steps (wins over the provider's)")),
  temperature: opt(described(temperature, 'sampling temperature of prompt steps, 0 to 2')),
  max_tokens: opt(described(int(1), 'longest answer of prompt steps, in tokens')),
  cache: opt(
    described(
      z.union([
        z.boolean(),
        z.strictObject({
          inputs: opt(described(z.array(z.string()), "globs of the files the step reads, relative to the spec's folder; ! excludes; on a step with matrix or for_each, ${{ matrix.<key> }}, ${{ item }} and ${{ vars.<name> }} name each instance's own files")),
          outputs: opt(described(z.array(z.string()), 'globs of the files the step writes into the workspace, restored on a hit (per instance, as inputs)')),
          env: opt(described(z.array(z.string()), 'names of environment variables whose values shape the result')),
        }),
      ]),
      'false: never answer from the cache; on a run step, {inputs, outputs, env} (true: the same as {}) skips the step when nothing it depends on changed',
    ),
  ),
};

const stepSchema = described(
  z.strictObject({
    ...stepDefaults,
    run: opt(described(z.string(), 'shell script, run with bash -e -o pipefail -c; each ${{ }} arrives as an environment variable')),
    prompt: opt(described(z.string(), 'the text sent to the model: makes this an LLM step (exactly one of run or prompt)')),
    system: opt(described(z.string(), 'system message of a prompt step')),
    needs: opt(described(z.array(z.string()), 'ids of the steps this step waits for')),
    runs_on: opt(described(z.array(z.string().check(z.regex(/^[\w.-]+$/))), 'with --workers: only a worker with all these tags (`orchestrator worker --tags`) runs this step')),
    if: opt(described(z.union([z.string(), z.boolean()]), 'run the step only when this expression is true (default: success())')),
    output: opt(described(z.enum(['text', 'json']), 'text (default), or json: stdout or the answer, parsed as JSON, becomes outputs')),
    outputs_schema: opt(described(z.record(z.string(), z.unknown()), "JSON Schema the step's outputs must satisfy, else the step fails (contract)")),
    env: opt(described(envMap, 'environment variables of a run step; values may hold ${{ }}')),
    matrix: opt(
      described(
        z.record(z.string(), z.array(z.union([scalar, z.record(z.string(), z.unknown())]))),
        'run the step once per combination of these values (read as ${{ matrix.key }}); include and exclude as in GitHub Actions',
      ),
    ),
    for_each: opt(described(z.string(), 'run the step once per item of this array, e.g. ${{ steps.list.outputs.files }} (read as ${{ item }} and ${{ item_index }})')),
    max_parallel: opt(described(int(1), 'with matrix or for_each: at most this many instances at once (default: only the job concurrency limits them)')),
    fail_fast: opt(described(z.boolean(), 'with matrix or for_each: the first failed instance cancels the others (default false: every instance runs)')),
    max_instances: opt(described(int(1).check(z.maximum(FAN_OUT_CAP)), `with matrix or for_each: the most instances the step may have (default 10000, at most ${FAN_OUT_CAP})`)),
  }),
  'a step: a shell script (run) or an LLM call (prompt)',
);

const providerSchema = described(
  z.strictObject({
    type: described(z.enum(['openai', 'anthropic', 'ollama', 'mlx']), 'openai (any OpenAI-compatible server), anthropic, ollama or mlx (mlx-lm\'s server, no key)'),
    base_url: opt(described(z.string(), 'server address: openai http://host:port/v1, anthropic and ollama http://host:port')),
    api_key_env: opt(described(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable')), 'NAME of the environment variable that holds the key (never the key itself)')),
    model: opt(described(modelName, "model of this provider's steps, unless a step names its own")),
    system: opt(described(z.string(), "system message of this provider's steps, unless a step sets its own")),
    temperature: opt(described(temperature, "sampling temperature of this provider's steps, 0 to 2")),
    max_tokens: opt(described(int(1), "longest answer of this provider's steps, in tokens")),
    timeout: opt(described(duration, 'time limit of each request (default 120s), unless a step sets its own')),
    concurrency: opt(described(int(1), 'at most this many requests in flight to this provider')),
    requests_per_minute: opt(described(z.number().check(z.positive()), 'rate budget: request starts are spaced 60/N seconds apart')),
  }),
  'an LLM endpoint',
);

const workersSchema = z.strictObject({
  redis: described(
    z.string().check(
      z.regex(/^rediss?:\/\/(?![^/@]*:[^/@]*@)\S+$/, 'must be a Redis URL without a password: redis://host:port (a URL with a password belongs in $ORCH_WORKERS, not in a committed file)'),
      z.superRefine((url, ctx) => {
        const problem = redisUrlProblem(url);
        if (problem) ctx.addIssue({ code: 'custom', message: `is not a valid Redis URL: ${problem}`, input: url });
      }),
    ),
    'the Redis the workers take steps from: redis://host:port',
  ),
  bucket: opt(described(z.string().check(z.regex(/^s3:\/\/[^\s/]+/, 'must be an S3 URL: s3://bucket/prefix')), 'the bucket artifacts travel through: s3://bucket/prefix')),
});

/** The whole spec format of SPEC §1: unknown keys are rejected everywhere. */
export const specSchema = z.strictObject({
  $schema: opt(described(z.string(), 'the JSON Schema of this file, for editors')),
  version: opt(described(z.literal(1), 'version of the spec format; only 1 exists')),
  name: opt(described(z.string().check(z.minLength(1)), "the job's name (default: the file name without extension)")),
  concurrency: opt(described(int(1), 'steps running at once (default: the number of CPUs; run --concurrency wins)')),
  on_failure: opt(described(z.enum(['continue', 'stop']), 'continue (default): other branches go on after a failure; stop: cancel running steps, start nothing new')),
  timeout: opt(described(duration, 'time limit of the whole job: running steps are stopped and the job fails')),
  secrets: opt(described(z.array(z.string()), 'environment variables whose values are written as *** everywhere')),
  vars: opt(described(z.record(z.string(), z.unknown()), 'values read as ${{ vars.name }}; run --var name=value overrides a declared one')),
  env: opt(described(envMap, 'environment variables of every shell step')),
  defaults: opt(described(z.strictObject(stepDefaults), 'values every step gets unless it sets them')),
  providers: opt(described(z.record(z.string(), providerSchema), 'named LLM endpoints for prompt steps')),
  workers: opt(described(workersSchema, 'run shell steps on workers (`orchestrator worker`); run --workers, $ORCH_WORKERS and run --local win')),
  steps: described(z.record(z.string(), stepSchema), 'the steps, by id; a step starts when all of its needs have settled'),
});

/** A spec as written, after zod (durations in ms). */
export type RawSpec = z.output<typeof specSchema>;
/** One step as written, after zod. */
export type RawStep = z.output<typeof stepSchema>;
/** One provider as written, after zod. */
export type RawProvider = z.output<typeof providerSchema>;
/** The retry field as written. */
export type RawRetry = z.output<typeof retry>;

/** The keys allowed at a path of the document, for "did you mean" hints. */
export function knownKeysAt(where: readonly PropertyKey[]): string[] {
  const [head, , sub] = where.map(String);
  if (where.length === 0) return Object.keys(specSchema.shape);
  if (head === 'steps' && where.length === 2) return Object.keys(stepSchema.shape);
  if ((head === 'steps' && sub === 'retry') || (head === 'defaults' && where[1] === 'retry')) return ['attempts', 'delay', 'backoff', 'max_delay'];
  if (head === 'defaults' && where.length === 1) return Object.keys(stepDefaults);
  if ((head === 'steps' && sub === 'cache') || (head === 'defaults' && where[1] === 'cache')) return ['inputs', 'outputs', 'env'];
  if (head === 'providers' && where.length === 2) return Object.keys(providerSchema.shape);
  if (head === 'workers' && where.length === 1) return Object.keys(workersSchema.shape);
  return [];
}
