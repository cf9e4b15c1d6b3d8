import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { parseDuration } from './duration.js';

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
        return orNone && ms === 0 ? Infinity : ms;
      }),
    ),
    orNone ? 'a duration: 500ms, 30s, 5m, 1h, or a number of seconds; none (or 0) for no time limit' : 'a duration: 500ms, 30s, 5m, 1h, or a number of seconds',
  );
const duration = durationField(false);
/** A step's `timeout`: shell steps without one stop after 6 hours; `none` lifts that. */
const stepTimeout = durationField(true);

const retry = z.union([
  described(int(1), 'number of attempts'),
  z.strictObject({
    attempts: int(1),
    delay: opt(duration),
    backoff: opt(z.enum(['fixed', 'exponential'])),
    max_delay: opt(duration),
  }),
]);

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const envMap = z.record(z.string(), scalar);
const temperature = z.number().check(z.minimum(0), z.maximum(2));

/** Fields `defaults:` may set for every step. */
const stepDefaults = {
  timeout: opt(stepTimeout),
  idle_timeout: opt(duration),
  retry: opt(retry),
  continue_on_error: opt(z.boolean()),
  shell: opt(z.string().check(z.minLength(1))),
  cwd: opt(z.string()),
  provider: opt(z.string()),
  model: opt(z.string()),
  temperature: opt(temperature),
  max_tokens: opt(int(1)),
  cache: opt(z.boolean()),
};

const stepSchema = z.strictObject({
  ...stepDefaults,
  run: opt(z.string()),
  prompt: opt(z.string()),
  system: opt(z.string()),
  needs: opt(z.array(z.string())),
  if: opt(z.union([z.string(), z.boolean()])),
  output: opt(z.enum(['text', 'json'])),
  outputs_schema: opt(z.record(z.string(), z.unknown())),
  env: opt(envMap),
});

const providerSchema = z.strictObject({
  type: z.enum(['openai', 'anthropic', 'ollama']),
  base_url: opt(z.string()),
  api_key_env: opt(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable'))),
  model: opt(z.string()),
  system: opt(z.string()),
  temperature: opt(temperature),
  max_tokens: opt(int(1)),
  timeout: opt(duration),
  concurrency: opt(int(1)),
  requests_per_minute: opt(z.number().check(z.positive())),
});

/** The whole spec format of SPEC §1: unknown keys are rejected everywhere. */
export const specSchema = z.strictObject({
  $schema: opt(z.string()),
  version: opt(z.literal(1)),
  name: opt(z.string().check(z.minLength(1))),
  concurrency: opt(int(1)),
  on_failure: opt(z.enum(['continue', 'stop'])),
  timeout: opt(duration),
  secrets: opt(z.array(z.string())),
  vars: opt(z.record(z.string(), z.unknown())),
  env: opt(envMap),
  defaults: opt(z.strictObject(stepDefaults)),
  providers: opt(z.record(z.string(), providerSchema)),
  steps: z.record(z.string(), stepSchema),
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
  if (head === 'providers' && where.length === 2) return Object.keys(providerSchema.shape);
  return [];
}
