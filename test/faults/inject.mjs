#!/usr/bin/env node
// The seeded fault-injection test (issue 14): `npm run test:faults`. It runs jobs of the built binary under
// random faults — kill -9, SIGINT/SIGTERM/SIGHUP once or twice, a full disk (a small tmpfs as the runs folder),
// the runs folder deleted — while their steps daemonize, ignore signals, flood binary, print secrets, fail, time
// out and retry; after each trial it checks: no hang, every file parses, `show`/`list-runs` answer in JSON
// without a stack, no process of the job survives, no byte of the secret on disk. Slow, so not in `npm test`.
//
//   npm run test:faults                               # 300 trials, a fresh seed (printed)
//   npm run test:faults -- --seed 42 --trials 50      # reproduce a run
//   npm run test:faults -- --seed 42 --trial 17       # one trial alone, its folder kept and its spec printed
//   options: --jobs N (trials at once, default 4), --keep (keep every trial's folder)
//   ORCH_REQUIRE_TMPFS=1: a trial that cannot mount its tmpfs is a violation, not a skip (.ci/run sets it)
//
// Each trial's spec, fault and moments come from (seed, trial) alone; the timing of real processes does not,
// so a reproduction repeats the same attack, not necessarily the same interleaving. Exit 1 on any violation.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawTrial } from './scenario.mjs';
import { runTrial } from './trial.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(REPO, 'bin/orchestrator.js');

function parseArgs(argv) {
  const o = { seed: Math.floor(Math.random() * 2 ** 31), trials: 300, trial: undefined, jobs: 4, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} takes a whole number, got ${argv[i]}`);
      return v;
    };
    if (a === '--seed') o.seed = num();
    else if (a === '--trials') o.trials = num();
    else if (a === '--trial') o.trial = num();
    else if (a === '--jobs') o.jobs = Math.max(1, num());
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown option ${a} (--seed N, --trials N, --trial T, --jobs N, --keep)`);
  }
  return o;
}

function spawnersBuilt() {
  const dir = path.join(REPO, 'dist/native');
  return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.node')) ? ['native', 'node'] : ['node'];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(REPO, 'dist/cli/main.cjs'))) throw new Error('dist/ is missing: run `npm run build` first');
  const requireTmpfs = process.env.ORCH_REQUIRE_TMPFS === '1';
  const numbers = o.trial !== undefined ? [o.trial] : [...Array(o.trials).keys()];
  const keep = o.keep || o.trial !== undefined;
  const spawners = spawnersBuilt();
  console.log(`fault injection: seed ${o.seed}, ${numbers.length} trial(s), ${Math.min(o.jobs, numbers.length)} at once, spawners ${spawners.join('+')}${requireTmpfs ? ', tmpfs required' : ''}`);
  console.log(`reproduce: npm run test:faults -- --seed ${o.seed} --trials ${o.trials}`);
  const started = Date.now();
  const results = [];
  let next = 0;
  // Ctrl-C: start no new trial, let the running ones finish and clean up (tmpfs mounts, processes), then
  // print the figures so far; a second Ctrl-C leaves at once.
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log('stopping: finishing the running trials (again to leave at once, without cleaning up)');
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  const worker = async () => {
    while (next < numbers.length && !stopping) {
      const plan = drawTrial({ seed: o.seed, trial: numbers[next++], spawners });
      if (o.trial !== undefined) console.log(`trial ${plan.trial}: fault ${JSON.stringify(plan.fault)}, resume ${JSON.stringify(plan.resume ?? null)}, env ${JSON.stringify(plan.env)}\n${plan.spec}`);
      const result = await runTrial({ plan, bin: BIN, keep, requireTmpfs });
      results.push(result);
      printProgress(result, results.length, numbers.length, o.trial !== undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, numbers.length) }, worker));
  const failed = printSummary({ results, seed: o.seed, seconds: (Date.now() - started) / 1000 });
  process.exitCode = failed ? 1 : stopping ? 130 : 0;
}

function printProgress(result, done, total, verbose) {
  const { plan, violations, skipped } = result;
  const mark = skipped ? 'skip' : violations.length > 0 ? 'FAIL' : 'ok';
  const kinds = [...new Set(violations.map((v) => v.kind))].join(', ');
  console.log(`[${String(done).padStart(String(total).length)}/${total}] trial ${plan.trial} ${mark} ${plan.fault.kind} exit=${result.exit ?? '-'} ${((result.elapsedMs ?? 0) / 1000).toFixed(1)}s${kinds ? `: ${kinds}` : ''}${skipped ? `: ${skipped}` : ''}`);
  if (verbose) for (const v of violations) console.log(`  ${v.kind}: ${v.detail}`);
  if (verbose && result.dir) console.log(`  trial folder kept: ${result.dir}`);
}

/** A violation's message with what varies between trials (folders, job ids, numbers, step lists) taken out. */
function shapeOf(detail) {
  return detail
    .replace(/\/\S+/g, '<path>')
    .replace(/\(ORCH_LAUNCHER=\w+; bodies [^)]*\)|; bodies \S+/g, '')
    .replace(/unsettled: [^;]*/g, 'unsettled: …')
    .replace(/\d+/g, 'N');
}

/** Prints the figures; returns whether any violation was found. */
function printSummary({ results, seed, seconds }) {
  const count = (list, key) => list.reduce((m, x) => m.set(key(x), (m.get(key(x)) ?? 0) + 1), new Map());
  const run = results.filter((r) => !r.skipped);
  const faults = count(run.filter((r) => r.delivered), (r) => r.plan.fault.kind);
  const resumes = count(run.filter((r) => r.phases > 1), (r) => r.plan.resume.kind);
  const late = count(run.filter((r) => !r.delivered && r.plan.fault.kind !== 'none'), (r) => r.plan.fault.kind);
  const bodies = count(run.flatMap((r) => r.plan.steps), (s) => s.body);
  const skipped = results.length - run.length;
  const found = run.flatMap((r) => r.violations.map((v) => ({ ...v, trial: r.plan.trial })));
  const violations = found;
  const byKind = new Map();
  for (const v of violations) {
    const entry = byKind.get(v.kind) ?? { trials: new Set(), shapes: new Map() };
    entry.trials.add(v.trial);
    const shape = shapeOf(v.detail);
    const seen = entry.shapes.get(shape) ?? { trials: new Set(), example: v };
    seen.trials.add(v.trial);
    entry.shapes.set(shape, seen);
    byKind.set(v.kind, entry);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`\n== fault injection: seed ${seed}, ${results.length} trials in ${seconds.toFixed(0)} s on ${os.cpus().length} cores ==`);
  console.log(`trials run: ${run.length}; skipped: ${skipped}${skipped ? ` (${results.find((r) => r.skipped).skipped})` : ''}`);
  console.log(`faults injected: ${sorted(faults) || 'none'}`);
  console.log(`resumes of the job, by fault: ${sorted(resumes) || 'none'}`);
  console.log(`faults drawn but not delivered (the run had already ended): ${sorted(late) || 'none'}`);
  console.log(`step bodies: ${sorted(bodies)}`);
  const bad = new Set(violations.map((v) => v.trial)).size;
  console.log(`violations: ${violations.length} in ${bad} of ${run.length} trials`);
  for (const [kind, e] of [...byKind].sort((a, b) => b[1].trials.size - a[1].trials.size)) {
    const shapes = [...e.shapes.values()].sort((a, b) => b.trials.size - a.trials.size);
    console.log(`  ${kind}: ${e.trials.size} trial(s); e.g. npm run test:faults -- --seed ${seed} --trial ${shapes[0].example.trial}`);
    // The most frequent distinct messages of the kind (paths, ids and numbers aside), each with a trial.
    for (const { trials, example } of shapes.slice(0, 4)) console.log(`    [${trials.size}× e.g. --trial ${example.trial}] ${example.detail}`);
    if (shapes.length > 4) console.log(`    … and ${shapes.length - 4} other message(s)`);
  }
  return violations.length > 0;
}

main().catch((e) => {
  console.error(`test:faults: ${e.message}`);
  process.exitCode = 2;
});
