import { z } from 'zod';
import { parseDuration } from './duration.js';

/** Step ids as SPEC §1 allows them. */
export const STEP_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

const duration = z
  .union([z.number().nonnegative(), z.string()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(v)} (use 500ms, 30s, 5m, 1h or a number of seconds)` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'a duration: 500ms, 30s, 5m, 1h, or a number of seconds' });

const retry = z.union([
  z.number().int().min(1).meta({ description: 'number of attempts' }),
  z.strictObject({
    attempts: z.number().int().min(1),
    delay: duration.optional(),
    backoff: z.enum(['fixed', 'exponential']).optional(),
    max_delay: duration.optional(),
  }),
]);

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const envMap = z.record(z.string(), scalar);

/** Fields `defaults:` may set for every step. */
const stepDefaults = {
  timeout: duration.optional(),
  idle_timeout: duration.optional(),
  retry: retry.optional(),
  continue_on_error: z.boolean().optional(),
  shell: z.string().min(1).optional(),
  cwd: z.string().optional(),
  provider: z.string().optional(),
  model: z.string().optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).optional(),
  cache: z.boolean().optional(),
};

const stepSchema = z.strictObject({
  ...stepDefaults,
  run: z.string().optional(),
  prompt: z.string().optional(),
  system: z.string().optional(),
  needs: z.array(z.string()).optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
  output: z.enum(['text', 'json']).optional(),
  outputs_schema: z.record(z.string(), z.unknown()).optional(),
  env: envMap.optional(),
});

const providerSchema = z.strictObject({
  type: z.enum(['openai', 'anthropic', 'ollama']),
  base_url: z.string().optional(),
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable').optional(),
  model: z.string().optional(),
  system: z.string().optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).optional(),
  timeout: duration.optional(),
  concurrency: z.number().int().min(1).optional(),
  requests_per_minute: z.number().positive().optional(),
});

/** The whole spec format of SPEC §1: unknown keys are rejected everywhere. */
export const specSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).optional(),
  name: z.string().min(1).optional(),
  concurrency: z.number().int().min(1).optional(),
  on_failure: z.enum(['continue', 'stop']).optional(),
  timeout: duration.optional(),
  secrets: z.array(z.string()).optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
  env: envMap.optional(),
  defaults: z.strictObject(stepDefaults).optional(),
  providers: z.record(z.string(), providerSchema).optional(),
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
