import path from 'node:path';
import type { EvalContext } from '../expr/index.js';
import { buildGraph, topologicalOrder } from '../graph/build.js';
import { instanceStep, planInstances } from '../graph/instances.js';
import type { JobSpec, StepSpec } from '../specfile/model.js';
import { renderShell } from '../steps/render.js';
import { Redactor } from '../store/redact.js';

/** What `run --dry-run` says of one step (SPEC §11). */
export interface PlannedStep {
  step: string;
  plan: 'would-run' | 'cached' | 'skipped';
  reason: string;
  cache_key?: string;
  cache_key_parts?: Record<string, unknown>;
  /** An instance of a fanned step with a static matrix: the fanned step's id (its entries follow the step's own). */
  instance_of?: string;
}

/** A step's result as expressions read it, known ahead only for a step whose result is stored. */
type KnownResult = { status: string; outputs: Record<string, unknown>; text: string; exit_code: number | null };

/**
 * What a run would do, without running anything: each step of `spec` would run, would be restored from the cache
 * (its key computed from its inputs as they are now), or is skipped because no named step needs it. A step after
 * one that would run would run too: its key depends on a result not known yet.
 */
export async function planDryRun(o: { spec: JobSpec; selected: JobSpec; runsDir: string; cacheDir?: string; noCache: boolean; force: string[]; forceAll: boolean }): Promise<PlannedStep[]> {
  const { spec } = o;
  const chosen = new Set(o.selected.steps.map((s) => s.id));
  const needsCache = o.selected.steps.some((s) => s.shellCache && s.cache);
  const cache = needsCache ? await openCache(o) : undefined;
  const graph = buildGraph(spec.steps);
  const known = new Map<string, KnownResult>();
  const plans = new Map<string, PlannedStep>();
  const instancePlans = new Map<string, PlannedStep[]>();
  // Instance ids are made as the scheduler makes them: never one a step (or an earlier instance) has.
  const taken = new Set(spec.steps.map((s) => s.id.toLowerCase())); // case-insensitively, as the run plans them
  const fanned = new Set(spec.steps.filter((s) => s.fan).map((s) => s.id));
  // An id never holds a secret's value, and a label shows it masked, as in the run (SPEC §4, §8).
  const redactor = Redactor.fromEnv(spec.secrets);
  const redact = (text: string) => redactor.redact(text);
  for (const i of topologicalOrder(graph)) {
    const step = spec.steps[i]!;
    const plan = (p: Omit<PlannedStep, 'step'>) => plans.set(step.id, { step: step.id, ...p });
    if (!chosen.has(step.id)) {
      plan({ plan: 'skipped', reason: 'not needed by the named steps' });
      continue;
    }
    const waiting = step.needs.find((n) => !known.has(n));
    const forced = o.forceAll || o.force.includes(step.id) ? (o.forceAll ? '--force-all' : '--force') : undefined;
    if (step.kind === 'llm') plan({ plan: 'would-run', reason: 'a prompt step: its answer is looked up in the cache when it runs' });
    else if (!step.cache) plan({ plan: 'would-run', reason: 'cache: false' });
    else if (!step.shellCache) plan({ plan: 'would-run', reason: 'it has no cache:' });
    else if (step.fan?.forEach !== undefined) plan({ plan: 'would-run', reason: 'for_each: its instances are made, and keyed, when it runs' });
    else if (waiting) plan({ plan: 'would-run', reason: fanned.has(waiting) ? `it needs "${waiting}", whose results are gathered from its instances when it runs` : `it needs "${waiting}", which would run: its key is made from that result` });
    else if (forced && !step.fan) plan({ plan: 'would-run', reason: forced });
    else if (step.fan) {
      // A static matrix: its instances are known now, each keyed as the run will key it.
      const infos = planInstances({ step, isTaken: (id) => taken.has(id.toLowerCase()), redact });
      if (!Array.isArray(infos)) {
        plan({ plan: 'would-run', reason: `matrix: ${infos.error}` });
        continue;
      }
      const each: PlannedStep[] = [];
      for (const info of infos) {
        taken.add(info.id.toLowerCase());
        const instance = instanceStep(step, info, spec.vars);
        const found = forced ? { plan: { plan: 'would-run' as const, reason: forced } } : await lookUp({ spec, step: instance, known, cache: cache!, noCache: o.noCache, matrix: info.matrix });
        each.push({ step: info.id, ...found.plan, instance_of: step.id });
      }
      const running = each.filter((p) => p.plan === 'would-run').length;
      plan(forced ? { plan: 'would-run', reason: forced } : running === 0 ? { plan: 'cached', reason: `all ${each.length} instances are stored under their keys` } : { plan: 'would-run', reason: `${running} of ${each.length} instances would run` });
      instancePlans.set(step.id, each);
    } else {
      const found = await lookUp({ spec, step, known, cache: cache!, noCache: o.noCache });
      plan(found.plan);
      if (found.result) known.set(step.id, found.result);
    }
    // A static matrix that is not looked up (no cache:, a prompt step, a need that would run): its instances are
    // known now all the same, and each would run for the step's reason.
    if (step.fan && step.fan.forEach === undefined && !instancePlans.has(step.id)) {
      const infos = planInstances({ step, isTaken: (id) => taken.has(id.toLowerCase()), redact });
      if (Array.isArray(infos)) {
        for (const info of infos) taken.add(info.id.toLowerCase());
        instancePlans.set(step.id, infos.map((info) => ({ step: info.id, plan: 'would-run', reason: plans.get(step.id)!.reason, instance_of: step.id })));
      }
    }
  }
  return spec.steps.flatMap((s) => [plans.get(s.id)!, ...(instancePlans.get(s.id) ?? [])]);
}

async function openCache(o: { spec: JobSpec; runsDir: string; cacheDir?: string }) {
  const [{ cacheDirOf, ResponseCache }, { openStepCache }] = await Promise.all([import('../store/cache.js'), import('../steps/shell-cache.js')]);
  const cacheDir = ResponseCache.open(cacheDirOf({ cacheDir: o.cacheDir })).dir;
  return openStepCache({ cacheDir, runsDir: path.resolve(o.runsDir), spec: o.spec, redactor: Redactor.fromEnv(o.spec.secrets), noCache: false, force: new Set(), forceAll: false, jobId: 'dry-run', warn: () => {} });
}

async function lookUp(o: { spec: JobSpec; step: StepSpec; known: Map<string, KnownResult>; cache: Awaited<ReturnType<typeof openCache>>; noCache: boolean; matrix?: Record<string, unknown> }): Promise<{ plan: Omit<PlannedStep, 'step'>; result?: KnownResult }> {
  const { spec, step } = o;
  const context: EvalContext = { contexts: { vars: spec.vars, env: { ...process.env }, job: { id: '', name: spec.name, run_dir: '' }, steps: Object.fromEntries(o.known), ...(o.matrix ? { matrix: o.matrix } : {}) } };
  const rendered = renderShell(step, context);
  if ('error' in rendered) return { plan: { plan: 'would-run', reason: `its expressions are evaluated when it runs (${rendered.error.message})` } };
  const key = o.cache.keyOf(rendered);
  const keyed = { cache_key: key.key, cache_key_parts: o.cache.o.redactor.redactValue(key.parts) };
  if (o.noCache) return { plan: { plan: 'would-run', reason: '--no-cache', ...keyed } };
  const entry = await o.cache.o.store.getEntry(key.key);
  if (entry.kind !== 'hit') return { plan: { plan: 'would-run', reason: entry.kind === 'miss' ? 'no result stored under its key' : entry.problem, ...keyed } };
  // What the run would meet restoring it (a blob missing or cut short): a miss there, so not `cached` here.
  const problem = await o.cache.problemOf(key.key, entry.entry);
  if (problem) return { plan: { plan: 'would-run', reason: problem, ...keyed } };
  const r = (entry.entry as { result: { exit_code: number | null; text: string; outputs: Record<string, unknown> } }).result;
  return { plan: { plan: 'cached', reason: 'a result is stored under its key', ...keyed }, result: { status: 'succeeded', outputs: r.outputs, text: r.text, exit_code: r.exit_code } };
}
