// What a reader accepts from a run folder: manifest.json and each line of events.jsonl are checked against
// these shapes before any code relies on them, so a damaged file is named as damaged (which field, where)
// instead of surfacing later as a TypeError. Objects are loose: fields this version does not know pass.
import * as z from 'zod/mini';
import type { RunEvent } from '../events/types.js';
import type { JobManifest } from './manifest.js';

// jitless: a reader checks a few files once; compiling parsers with new Function would cost more than it saves.
z.config({ jitless: true });

const str = z.string();
const num = z.number();
const nullable = z.nullable;
const opt = z.optional;
const stepError = z.looseObject({ code: str, message: str });
const usage = z.looseObject({ input_tokens: num, output_tokens: num });
const fileRecord = z.looseObject({ path: str, sha256: str, size_bytes: num });
const settled = { attempt: num, exit_code: nullable(num), duration_s: num, text_truncated: opt(z.literal(true)), usage: opt(usage), cache_key: opt(str), cache_key_parts: opt(z.record(str, z.unknown())), cache_source: opt(z.enum(['local', 'remote'])), cache_warnings: opt(z.array(str)), files: opt(z.array(fileRecord)) };

const stepRecord = z.looseObject({
  status: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'interrupted']),
  attempts: num,
  started_at: nullable(str),
  finished_at: nullable(str),
  duration_s: nullable(num),
  exit_code: nullable(num),
  cached: z.boolean(),
  reused: z.boolean(),
  error: nullable(stepError),
  text_truncated: opt(z.literal(true)),
  usage: opt(usage),
  cache_key: opt(str),
  cache_key_parts: opt(z.record(str, z.unknown())),
  cache_source: opt(z.enum(['local', 'remote'])),
});

const manifestSchema = z.looseObject({
  schema_version: z.literal(1),
  job_id: str,
  name: str,
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  spec: z.looseObject({ path: str, sha256: str }),
  started_at: str,
  finished_at: nullable(str),
  duration_s: nullable(num),
  concurrency: num,
  pid: num,
  pid_start: opt(str),
  hostname: str,
  resumed_from: opt(str),
  rerun_of: opt(str),
  vars: opt(z.record(str, z.unknown())),
  usage: opt(usage),
  error: opt(stepError),
  steps: z.record(str, stepRecord),
  files: z.array(fileRecord),
});

const base = { ts: str, seq: num, job_id: str };
const step = { ...base, step: str };
/** The event types this version knows, by type: readers ignore the others (SPEC §4). */
const eventSchemas: Record<string, z.ZodMiniType> = {
  'job.started': z.looseObject({ ...base, name: str, spec_path: str, concurrency: num, pid: num, pid_start: opt(str), steps: z.array(str), vars: opt(z.record(str, z.unknown())), resumed_from: opt(str), rerun_of: opt(str) }),
  'step.started': z.looseObject({ ...step, attempt: num }),
  'step.retrying': z.looseObject({ ...step, attempt: num }),
  'step.worker': z.looseObject({ ...step, attempt: num, worker: str }),
  'step.succeeded': z.looseObject({ ...step, ...settled, cached: z.boolean(), reused: z.boolean() }),
  'step.failed': z.looseObject({ ...step, ...settled, error: stepError }),
  'step.skipped': z.looseObject({ ...step, error: stepError, files: opt(z.array(fileRecord)) }),
  'step.cancelled': z.looseObject({ ...step, error: stepError, duration_s: opt(num), files: opt(z.array(fileRecord)) }),
  'job.finished': z.looseObject({ ...base, status: z.enum(['succeeded', 'failed', 'cancelled']), duration_s: num, error: opt(stepError) }),
};
const anyEvent = z.looseObject({ type: str });

/** The manifest, or what is wrong with it (`steps.a.status: expected one of …`). */
export function checkManifest(value: unknown): { manifest: JobManifest } | { problem: string } {
  const r = manifestSchema.safeParse(value);
  return r.success ? { manifest: value as JobManifest } : { problem: describeIssue(r.error.issues[0]!, value) };
}

/** One journal line's event, or what is wrong with it. */
export function checkEvent(value: unknown): { event: RunEvent } | { problem: string } {
  const head = anyEvent.safeParse(value);
  if (!head.success) return { problem: describeIssue(head.error.issues[0]!, value) };
  const schema = eventSchemas[head.data.type];
  if (!schema) return { event: value as RunEvent };
  const r = schema.safeParse(value);
  return r.success ? { event: value as RunEvent } : { problem: `${head.data.type}: ${describeIssue(r.error.issues[0]!, value)}` };
}

/** `steps.a.attempts: expected a number` — where, and what was expected; never the value found (it may hold anything). */
function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const where = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}: `;
  let found = root;
  for (const key of issue.path) found = found !== null && typeof found === 'object' ? (found as Record<PropertyKey, unknown>)[key] : undefined;
  if (issue.code === 'invalid_type' && found === undefined) return `${where}missing`;
  if (issue.code === 'invalid_type') return `${where}expected ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}, got ${found === null ? 'null' : Array.isArray(found) ? 'an array' : `a ${typeof found}`}`;
  if (issue.code === 'invalid_value') return `${where}expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where}${issue.message}`;
}
