#!/usr/bin/env node
// run.mjs — the orchestrator's own benchmark (`npm run bench`). Plain Node (>=20), no dependencies.
// Times the orchestrator side by side with make (and ninja when installed) and with floor-orch.mjs
// (a ~100-line Node yardstick), interleaved, several repetitions, and prints ONE table:
// target | orchestrator | reference (same run) | bound | ratio | result.
//
//   npm run bench                          # full suite (~10 min on 2 cores)
//   npm run bench -- --suite quick         # ~1-2 min: smaller N, fewer repetitions (development)
//   npm run bench -- --only per-step,startup   # some groups only: startup, per-step, makespan, scale, fanout, llm, workers, cache
//   npm run bench -- --only cache --with-others # the cache group, with wireit and turbo from npm beside it
//   npm run bench -- --json                # raw numbers as one JSON document on stdout (table on stderr)
//   npm run bench -- --json out.json       # table on stdout, raw numbers also written to out.json
//   npm run bench -- --reps 3 --keep       # override repetitions; keep the temp folder
//
// Build first (`npm run build`). The orchestrator is `node bin/orchestrator.js` of this repository;
// set ORCH="node /other/checkout/bin/orchestrator.js" to time another build (split on spaces, no shell).
//
// Targets (every one a ratio measured side by side in the same run, or a stated absolute bound):
//   per-step   N `true` steps, concurrency 2, chain and fan: wall(orch) / wall(floor-orch) <= 1.25,
//              paired per repetition, median of the ratios. Stretch: <= 1.00.
//   makespan   skewed and layered DAGs (N=60, seeded sleeps), concurrency 2 and 4. The orchestrator
//              is run once first in the same --runs-dir (the "first run", no history), then timed
//              again in that runs dir ("warmed"): warmed / make -jC <= 1.00 (paired) and
//              warmed / LB <= 1.06, LB = max(critical path, total work / C).
//   scale      layered DAG of `true`, N small and 10x larger, concurrency 2: the large run exits 0;
//              wall(large) / wall(small) <= 11; peak RSS of the large run < 300 MB (10^6 bytes);
//              bytes the orchestrator process read+wrote per step, large / small <= 1.5 (linear
//              bookkeeping gives ~1x or less, a whole-manifest rewrite per step gives ~10x).
//   fanout     a for_each of N `true` instances (N=5000; quick 1000), C=2, vs the same N written out as steps
//              in the same run: <= 1.10 (paired); expansion of 10,000 items (from the list step's end to
//              step.expanded in events.jsonl) < 100 ms.
//   llm        2,000 prompt instances (quick 400) against a loopback OpenAI-compatible server answering
//              in 50 ms, streamed, provider concurrency 32, vs bench/llm-floor.mjs (the openai SDK, a pool
//              of 32, one file per answer): <= 1.25 (paired); then the fully cached rerun: per step no
//              dearer than a `true` instance of the fanout group (info when that group did not run).
//   workers    through BullMQ/Redis workers (bench/workers.mjs; needs redis-server): 1000 `true` steps (quick 200)
//              via 3 local workers vs local at C=3, <= 5 ms/step more (paired); the skewed N=60 sleep DAG via
//              3 workers x 4 slots <= 1.15x its lower bound at C=12 (the local run at C=4 beside it).
//   cache      cached run steps (bench/cache-group.mjs): a fully cached rerun of a 1,000-step chain (5 inputs,
//              1 output each) <= 0.25x the same spec with --no-cache (paired); a cached no-op of a 200-task
//              DAG faster than wireit's and Turborepo's on the same DAG (both installed from npm into the
//              temp folder only with --with-others; else the orchestrator's figure alone, info).
//   startup    `--version` / `node -e 0` <= 1.3; `run` of a one-step spec / `node -e 0` <= 1.6
//              (paired); `validate` of a 1000-step spec < 300 ms; `list-runs` over 1000 past runs
//              < 500 ms (the runs are copies of one real run folder with fresh job ids).
//
// Method: each DAG is generated once per group (bench/gen.mjs). Engines run one at a time,
// round-robin, the starting engine rotated each repetition, so machine drift hits all alike.
// Wall = spawn -> exit of the engine's process, measured here. Where /usr/bin/time exists every
// multi-second run is wrapped in it for CPU time and peak RSS (%M = ru_maxrss: the largest
// single process of the tree, here the orchestrator's Node process). Start-up commands are spawned
// directly (no wrapper). The exit code is 0 even when a target fails: this is a report.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildDag, bounds, writeAll, parseArgs } from './gen.mjs';
import { groupWorkers, WORKERS_SUITES } from './workers.mjs';
import { groupCache } from './cache-group.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const args = parseArgs(process.argv.slice(2));
if (args.help || args.h) {
  const src = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  console.log(src.slice(1, src.findIndex((l) => l.startsWith('import'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

// ---------- settings ----------
const SUITES = {
  quick: {
    startup: { reps: 7, validateN: 1000, pastRuns: 1000 },
    perStep: { n: 200, reps: 3 },
    makespan: { n: 60, min: 0.02, max: 0.2, cs: [2, 4], reps: 1 },
    scale: { small: 200, large: 2000, repsSmall: 2, repsLarge: 1 },
    fanout: { n: 1000, expandN: 10000, reps: 3 },
    llm: { n: 400, reps: 2 },
  },
  full: {
    startup: { reps: 21, validateN: 1000, pastRuns: 1000 },
    perStep: { n: 1000, reps: 5 },
    makespan: { n: 60, min: 0.05, max: 0.5, cs: [2, 4], reps: 3 },
    scale: { small: 1000, large: 10000, repsSmall: 3, repsLarge: 1 },
    fanout: { n: 5000, expandN: 10000, reps: 3 },
    llm: { n: 2000, reps: 3 },
  },
};
const SUITE_NAME = args.suite ?? 'full';
const SUITE = SUITES[SUITE_NAME];
if (!SUITE) {
  console.error(`unknown suite "${SUITE_NAME}" (quick, full)`);
  process.exit(2);
}
const GROUPS = ['startup', 'per-step', 'makespan', 'scale', 'fanout', 'llm', 'workers', 'cache'];
const ONLY = args.only ? String(args.only).split(',') : GROUPS;
for (const g of ONLY) if (!GROUPS.includes(g)) { console.error(`unknown group "${g}" (${GROUPS.join(', ')})`); process.exit(2); }
const REPS = args.reps ? Number(args.reps) : null;
const JSON_OUT = args.json === true ? '-' : args.json ?? null; // '-' = JSON on stdout, table on stderr
// relative paths in $ORCH are taken from the current folder (the engines run in temp folders)
const ORCH = process.env.ORCH ? process.env.ORCH.trim().split(/\s+/).map((w) => (!path.isAbsolute(w) && w.includes('/') && fs.existsSync(w) ? path.resolve(w) : w)) : [process.execPath, path.join(ROOT, 'bin/orchestrator.js')];
const CONC = 2; // per-step and scale concurrency

const BOUNDS = { fanout: 1.1, expandMs: 100, llm: 1.25, perStep: 1.25, perStepStretch: 1.0, vsMake: 1.0, vsLB: 1.06, scaleWall: 11, rssMB: 300, ioPerStep: 1.5, version: 1.3, run1: 1.6, validateMs: 300, listRunsMs: 500 };

// ---------- helpers ----------
const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;
const HAVE_TIME = fs.existsSync('/usr/bin/time');
const HAVE_NINJA = !!which('ninja');
const HAVE_MAKE = !!which('make');
const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const rmrf = (p) => fs.rmSync(p, { recursive: true, force: true });
// What a repetition leaves (run folders, caches, outputs) is set aside, not deleted, until the bench ends. On a
// file system that avoids reusing inodes freed in the last ~30 s (ext4 without a journal, as on the machine of
// the README's figures), deleting thousands of files just before a timed run makes every file that run creates
// cost up to 8x more, and the engine that creates more files (the orchestrator: a log, an outputs file, events)
// pays more of it. A user does not delete a run folder the second before each run; the bench should not either.
let trashDir = null;
let trashed = 0;
const discard = (p) => {
  if (!trashDir || !fs.existsSync(p)) return rmrf(p);
  fs.mkdirSync(trashDir, { recursive: true });
  fs.renameSync(p, path.join(trashDir, String(trashed++)));
};
const log = (s) => process.stderr.write(s + '\n');
const f = (x, d = 2) => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(d));
const sec = (x) => (x == null ? '—' : `${f(x, x < 10 ? 3 : 2)} s`);
const ms = (x) => (x == null ? '—' : `${f(x * 1000, 0)} ms`);

/** Run argv once; resolves {ok, code, wall (s), cpu (s), maxRssKb, err}. Kills the process group at the timeout. */
function runOnce(argv, { cwd, env, timeoutS, wrap = true }) {
  return new Promise((resolve) => {
    const tfile = wrap && HAVE_TIME ? path.join(os.tmpdir(), `orch-bench-time-${process.pid}-${crypto.randomBytes(4).toString('hex')}`) : null;
    const full = tfile ? ['/usr/bin/time', '-f', '%e %U %S %M', '-o', tfile, ...argv] : argv;
    let errTail = '';
    const t0 = process.hrtime.bigint();
    let child;
    try {
      child = spawn(full[0], full.slice(1), { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    } catch (e) {
      resolve({ ok: false, code: -1, wall: null, err: String(e) });
      return;
    }
    child.stderr.on('data', (d) => { errTail = (errTail + d).slice(-2000); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, timeoutS * 1000);
    child.on('error', (e) => { errTail += String(e); });
    child.on('exit', (code, sig) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch {} // leftovers in the group
      let cpu = null, maxRssKb = null;
      if (tfile) {
        try {
          const lines = fs.readFileSync(tfile, 'utf8').trim().split('\n');
          const [, u, s, m] = lines[lines.length - 1].split(/\s+/).map(Number);
          if (Number.isFinite(u + s)) cpu = u + s;
          if (Number.isFinite(m)) maxRssKb = m;
          if (code !== 0) errTail += '\n' + lines.slice(0, -1).join('\n');
        } catch {}
        rmrf(tfile);
      }
      const ok = !timedOut && code === 0;
      resolve({ ok, code: code ?? sig, wall: ok ? wall : null, cpu, maxRssKb, timedOut, err: errTail.trim().split('\n').slice(-3).join(' | ') });
    });
  });
}

function failText(r, timeoutS) {
  return `exit ${r.code}${r.timedOut ? ` (timeout ${timeoutS}s)` : ''}${r.err ? `: ${r.err}` : ''}`;
}

/** Total bytes and file count under dir. */
function dirSize(dir) {
  let bytes = 0, files = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else { bytes += fs.statSync(p).size; files++; }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { bytes, files };
}

// ---------- engines (for DAG groups) ----------
const orchRun = (dir, c, runsDir = path.join(dir, 'runs')) => [...ORCH, 'run', 'spec.yaml', '--runs-dir', runsDir, '--concurrency', String(c)];
const ENGINES = {
  orch: { prepare: (dir, dag, c, name) => writeAll(dag, dir, { formats: ['yaml'], concurrency: c, name }), clean: (dir) => discard(path.join(dir, 'runs')), argv: (dir, c) => orchRun(dir, c) },
  floor: {
    prepare: (dir, dag, c, name) => writeAll(dag, dir, { formats: ['yaml'], concurrency: c, name }),
    clean: (dir) => discard(path.join(dir, 'runs')),
    argv: (dir, c) => [process.execPath, path.join(HERE, 'floor-orch.mjs'), 'run', 'spec.yaml', '--runs-dir', path.join(dir, 'runs'), '--concurrency', String(c)],
  },
  make: { prepare: (dir, dag) => writeAll(dag, dir, { formats: ['make'] }), clean: () => {}, argv: (dir, c) => ['make', '-r', '-s', `-j${c}`, '-f', 'Makefile'] },
  ninja: {
    prepare: (dir, dag) => writeAll(dag, dir, { formats: ['ninja'] }),
    clean: (dir) => { rmrf(path.join(dir, '.ninja_log')); rmrf(path.join(dir, '.ninja_deps')); },
    argv: (dir, c) => ['ninja', '-j', String(c)],
  },
};

/**
 * Run `engines` (names of ENGINES, or objects {name, argv, clean}) round-robin for `reps`
 * repetitions after one untimed warm-up each; returns {name: {walls[], cpus[], rss[], fails[]}}.
 */
async function roundRobin({ label, engines, reps, timeoutS, warmup = true }) {
  const res = Object.fromEntries(engines.map((e) => [e.name, { walls: [], cpus: [], rss: [], fails: [], dead: null }]));
  if (warmup) {
    for (const e of engines) {
      e.clean?.();
      const r = await runOnce(e.argv(), { cwd: e.dir, timeoutS });
      if (!r.ok) res[e.name].dead = `warm-up failed, ${failText(r, timeoutS)}`;
      log(`  [${label}] warm-up ${e.name}: ${r.ok ? sec(r.wall) : res[e.name].dead}`);
    }
  }
  for (let rep = 0; rep < reps; rep++) {
    const live = engines.filter((e) => !res[e.name].dead);
    const line = [];
    for (let k = 0; k < live.length; k++) {
      const e = live[(k + rep) % live.length];
      const out = res[e.name];
      e.clean?.();
      const r = await runOnce(e.argv(), { cwd: e.dir, timeoutS });
      out.walls[rep] = r.wall;
      out.cpus[rep] = r.cpu;
      out.rss[rep] = r.maxRssKb;
      if (!r.ok) {
        out.fails.push(`rep ${rep}: ${failText(r, timeoutS)}`);
        if (r.timedOut || out.fails.length >= 2) out.dead = out.fails[out.fails.length - 1];
      }
      line.push(`${e.name} ${r.ok ? sec(r.wall) : 'FAILED'}`);
    }
    log(`  [${label}] rep ${rep + 1}/${reps}: ${line.join(', ')}`);
  }
  for (const v of Object.values(res)) {
    v.median = median(v.walls);
    v.failed = v.dead || (v.fails.length ? v.fails.join('; ') : null);
  }
  return res;
}

/** Median over repetitions of a[i] / b[i] (same repetition). */
function pairedRatio(a, b) {
  return median(a.map((x, i) => (x != null && b[i] != null ? x / b[i] : null)));
}

// ---------- result rows ----------
const rows = [];
const raw = {};
/** kind: 'target' (PASS/FAIL), 'stretch' (met / not met), 'info' (no verdict). */
function addRow({ group, target, measured, reference = '', bound, ratio, limit, kind = 'target', strictLess = false, error = null, pass }) {
  let result;
  if (kind === 'info') result = 'info';
  else if (pass !== undefined) result = pass && !error ? 'PASS' : 'FAIL';
  else if (error || ratio == null || !Number.isFinite(ratio)) result = kind === 'stretch' ? 'not met (no data)' : 'FAIL (no data)';
  else {
    const ok = strictLess ? ratio < limit : ratio <= limit;
    result = kind === 'stretch' ? (ok ? 'met (stretch)' : 'not met (stretch)') : ok ? 'PASS' : 'FAIL';
  }
  rows.push({ group, target, measured, reference: error ? `${reference}${reference ? '; ' : ''}error: ${error}` : reference, bound, ratio, limit, kind, result });
}

// ---------- groups ----------
async function groupStartup(tmp) {
  const S = SUITE.startup;
  const reps = REPS ?? S.reps;
  const dir = path.join(tmp, 'startup');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'one.yaml'), 'name: bench-one\nsteps:\n  t:\n    run: "true"\n');
  const vdag = buildDag({ shape: 'layered', n: S.validateN, cmd: 'true', seed: 1 });
  writeAll(vdag, path.join(dir, 'validate'), { formats: ['yaml'], concurrency: CONC, name: `bench-validate-${S.validateN}` });

  // list-runs fixture: one real run, then copies of its folder under fresh job ids
  const lrRuns = path.join(dir, 'past-runs');
  const seed = await runOnce([...ORCH, 'run', 'one.yaml', '--runs-dir', lrRuns], { cwd: dir, timeoutS: 60, wrap: false });
  let fixtureError = null;
  if (!seed.ok) fixtureError = `seed run failed, ${failText(seed, 60)}`;
  else {
    const t = Date.now();
    const made = makePastRuns(lrRuns, S.pastRuns);
    log(`  [startup] list-runs fixture: ${made} run folders in ${lrRuns} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }

  const runsOne = path.join(dir, 'runs-one');
  const cmds = [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { name: '--version', argv: [...ORCH, '--version'] },
    { name: 'run 1-step', argv: [...ORCH, 'run', 'one.yaml', '--runs-dir', runsOne] },
    { name: `validate ${S.validateN}`, argv: [...ORCH, 'validate', path.join('validate', 'spec.yaml')] },
    ...(fixtureError ? [] : [
      { name: 'list-runs', argv: [...ORCH, 'list-runs', '--runs-dir', lrRuns] },
      { name: 'list-runs all', argv: [...ORCH, 'list-runs', '--runs-dir', lrRuns, '--limit', String(S.pastRuns), '--json'] },
    ]),
  ];
  const res = Object.fromEntries(cmds.map((c) => [c.name, { walls: [], fails: [] }]));
  for (const c of cmds) { // warm-up: page cache, and catches commands that fail
    const r = await runOnce(c.argv, { cwd: dir, timeoutS: 60, wrap: false });
    if (!r.ok) res[c.name].dead = failText(r, 60);
  }
  for (let rep = 0; rep < reps; rep++) {
    const live = cmds.filter((c) => !res[c.name].dead);
    for (let k = 0; k < live.length; k++) {
      const c = live[(k + rep) % live.length];
      const r = await runOnce(c.argv, { cwd: dir, timeoutS: 60, wrap: false });
      res[c.name].walls[rep] = r.wall;
      if (!r.ok) res[c.name].fails.push(failText(r, 60));
    }
  }
  log(`  [startup] ${reps} reps: ${cmds.map((c) => `${c.name} ${ms(median(res[c.name].walls))}`).join(', ')}`);
  raw.startup = { reps, cmds: Object.fromEntries(cmds.map((c) => [c.name, { argv: c.argv, ...res[c.name] }])) };
  const node0 = res['node -e 0'];
  const errOf = (name) => res[name]?.dead || (res[name]?.fails.length ? res[name].fails[0] : null);
  const paired = (name, limit, label) => {
    const w = res[name];
    addRow({
      group: 'startup', target: label, measured: ms(median(w.walls)), reference: `node -e 0: ${ms(median(node0.walls))}`,
      bound: `≤ ${limit.toFixed(2)}× node -e 0`, ratio: pairedRatio(w.walls, node0.walls), limit, error: errOf(name),
    });
  };
  paired('--version', BOUNDS.version, '`orchestrator --version` vs `node -e 0`');
  paired('run 1-step', BOUNDS.run1, '`run` of a one-step spec vs `node -e 0`');
  const vm = median(res[`validate ${S.validateN}`].walls);
  addRow({ group: 'startup', target: `\`validate\` of a ${S.validateN}-step spec`, measured: ms(vm), reference: `node -e 0: ${ms(median(node0.walls))}`, bound: `< ${BOUNDS.validateMs} ms`, ratio: vm == null ? null : (vm * 1000) / BOUNDS.validateMs, limit: 1, strictLess: true, error: errOf(`validate ${S.validateN}`) });
  if (fixtureError) {
    addRow({ group: 'startup', target: `\`list-runs\` over ${S.pastRuns} past runs`, measured: '—', bound: `< ${BOUNDS.listRunsMs} ms`, ratio: null, limit: 1, error: fixtureError });
  } else {
    const lm = median(res['list-runs'].walls);
    const la = median(res['list-runs all'].walls);
    addRow({ group: 'startup', target: `\`list-runs\` over ${S.pastRuns} past runs (default limit)`, measured: ms(lm), reference: `\`--limit ${S.pastRuns} --json\` (reads all): ${ms(la)}`, bound: `< ${BOUNDS.listRunsMs} ms`, ratio: lm == null ? null : (lm * 1000) / BOUNDS.listRunsMs, limit: 1, strictLess: true, error: errOf('list-runs') });
  }
}

/** Fill runsDir (holding exactly one real run) up to `total` run folders: copies of it under fresh job ids. */
function makePastRuns(runsDir, total) {
  const isId = (n) => /^\d{8}-\d{6}-\d{3}-[0-9a-z]{5}$/.test(n);
  const src = fs.readdirSync(runsDir).filter(isId);
  if (src.length !== 1) throw new Error(`expected one run folder in ${runsDir}, found ${src.length}`);
  const oldId = src[0];
  const srcDir = path.join(runsDir, oldId);
  const dirs = [], files = []; // relative paths; file contents read once
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { dirs.push(path.relative(srcDir, p)); walk(p); }
      else files.push({ rel: path.relative(srcDir, p), buf: fs.readFileSync(p) });
    }
  };
  walk(srcDir);
  const m0 = JSON.parse(fs.readFileSync(path.join(srcDir, 'manifest.json'), 'utf8'));
  const dur = typeof m0.duration_s === 'number' ? m0.duration_s : 0;
  const p2 = (v, w = 2) => String(v).padStart(w, '0');
  const t0 = Date.now() - 10 * 60 * 1000;
  for (let i = 1; i < total; i++) {
    const t = new Date(t0 - i * 61_237); // ~17 h of history, about one run a minute
    const id = `${t.getUTCFullYear()}${p2(t.getUTCMonth() + 1)}${p2(t.getUTCDate())}-${p2(t.getUTCHours())}${p2(t.getUTCMinutes())}${p2(t.getUTCSeconds())}-${p2(t.getUTCMilliseconds(), 3)}-${crypto.randomBytes(4).readUInt32BE().toString(36).padStart(7, '0').slice(0, 5)}`;
    const dst = path.join(runsDir, id);
    fs.mkdirSync(dst);
    for (const d of dirs) fs.mkdirSync(path.join(dst, d), { recursive: true });
    const written = new Map();
    for (const { rel, buf } of files) {
      if (rel === 'manifest.json') continue;
      const text = buf.toString('utf8');
      const out = text.includes(oldId) ? Buffer.from(text.replaceAll(oldId, id)) : buf;
      fs.writeFileSync(path.join(dst, rel), out);
      written.set(rel, out);
    }
    // the manifest: new id and times, and its record of file hashes kept true after the patch
    const m = JSON.parse(JSON.stringify(m0).replaceAll(oldId, id));
    m.started_at = t.toISOString();
    m.finished_at = new Date(t.getTime() + dur * 1000).toISOString();
    for (const fe of Array.isArray(m.files) ? m.files : []) {
      const out = typeof fe?.path === 'string' ? written.get(fe.path) : undefined;
      if (!out) continue;
      fe.sha256 = crypto.createHash('sha256').update(out).digest('hex');
      fe.size_bytes = out.length;
    }
    fs.writeFileSync(path.join(dst, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
  }
  return fs.readdirSync(runsDir).filter(isId).length;
}

async function groupPerStep(tmp) {
  const P = SUITE.perStep;
  const reps = REPS ?? P.reps;
  raw.perStep = {};
  for (const shape of ['chain', 'fan']) {
    const dag = buildDag({ shape, n: P.n, cmd: 'true', seed: 1 });
    const names = ['orch', 'floor', ...(HAVE_MAKE ? ['make'] : []), ...(HAVE_NINJA ? ['ninja'] : [])];
    const engines = names.map((name) => {
      const dir = path.join(tmp, `per-step-${shape}`, name);
      fs.mkdirSync(dir, { recursive: true });
      ENGINES[name].prepare(dir, dag, CONC, `bench-${shape}-${P.n}`);
      return { name, dir, argv: () => ENGINES[name].argv(dir, CONC), clean: () => ENGINES[name].clean(dir) };
    });
    const timeoutS = 30 + 0.1 * dag.n;
    const res = await roundRobin({ label: `per-step ${shape} N=${dag.n}`, engines, reps, timeoutS });
    raw.perStep[shape] = { n: dag.n, c: CONC, reps, engines: res };
    const o = res.orch, fl = res.floor;
    const perStep = (w) => (w == null ? '—' : `${f((w / dag.n) * 1000, 2)} ms/step`);
    const ref = [`floor-orch ${sec(fl.median)} (${perStep(fl.median)})`, ...names.filter((n) => n === 'make' || n === 'ninja').map((n) => `${n} -j${CONC} ${sec(res[n].median)}${res[n].failed ? ' (failed)' : ''}`)].join('; ');
    const ratio = pairedRatio(o.walls, fl.walls);
    const error = o.failed || fl.failed;
    const measured = `${sec(o.median)} (${perStep(o.median)})`;
    addRow({ group: 'per-step', target: `per shell step: ${shape} N=${dag.n} \`true\`, C=${CONC}, orch vs floor-orch`, measured, reference: ref, bound: `≤ ${BOUNDS.perStep.toFixed(2)}× floor`, ratio, limit: BOUNDS.perStep, error });
    addRow({ group: 'per-step', target: `stretch: ${shape} N=${dag.n} beats floor-orch`, measured, reference: 'floor-orch, same repetitions', bound: `≤ ${BOUNDS.perStepStretch.toFixed(2)}× floor`, ratio, limit: BOUNDS.perStepStretch, kind: 'stretch', error });
  }
}

async function groupMakespan(tmp) {
  const M = SUITE.makespan;
  const reps = REPS ?? M.reps;
  raw.makespan = {};
  for (const shape of ['skewed', 'layered']) {
    for (const c of M.cs) {
      const dag = buildDag({ shape, n: M.n, cmd: 'sleep', min: M.min, max: M.max, seed: 1 });
      const b = bounds(dag, c);
      const base = path.join(tmp, `makespan-${shape}-c${c}`);
      const timeoutS = 30 + 3 * b.totalWork;
      const label = `makespan ${shape} N=${dag.n} C=${c}`;
      // the orchestrator's first run, in a fresh runs dir: no history; it warms that runs dir
      const odir = path.join(base, 'orch');
      fs.mkdirSync(odir, { recursive: true });
      ENGINES.orch.prepare(odir, dag, c, `bench-${shape}-${dag.n}`);
      const warmRuns = path.join(odir, 'runs');
      discard(warmRuns);
      const first = await runOnce(orchRun(odir, c, warmRuns), { cwd: odir, timeoutS });
      log(`  [${label}] orch first run (no history): ${first.ok ? sec(first.wall) : failText(first, timeoutS)}   LB ${b.lowerBound} s`);
      const engines = [
        { name: 'orch', dir: odir, argv: () => orchRun(odir, c, warmRuns) }, // no clean: the history stays
        ...['make', 'ninja'].filter((n) => (n === 'make' ? HAVE_MAKE : HAVE_NINJA)).map((name) => {
          const dir = path.join(base, name);
          fs.mkdirSync(dir, { recursive: true });
          ENGINES[name].prepare(dir, dag, c);
          return { name, dir, argv: () => ENGINES[name].argv(dir, c), clean: () => ENGINES[name].clean(dir) };
        }),
      ];
      const res = first.ok ? await roundRobin({ label, engines, reps, timeoutS, warmup: false }) : null;
      raw.makespan[`${shape}-c${c}`] = { n: dag.n, c, min: M.min, max: M.max, reps, bounds: b, orchFirst: first, engines: res };
      const tgt = `makespan: ${shape} N=${dag.n} C=${c}, sleeps ${M.min}–${M.max} s`;
      const lbText = `LB ${f(b.lowerBound, 3)} s (CP ${f(b.criticalPath, 3)}, work/C ${f(b.workOverC, 3)})`;
      if (!res) {
        const error = `first run failed, ${failText(first, timeoutS)}`;
        addRow({ group: 'makespan', target: `${tgt}: orch (warmed) vs make -j${c}`, measured: '—', bound: '≤ 1.00× make', ratio: null, limit: BOUNDS.vsMake, error });
        addRow({ group: 'makespan', target: `${tgt}: orch (warmed) vs lower bound`, measured: '—', reference: lbText, bound: `≤ ${BOUNDS.vsLB.toFixed(2)}× LB`, ratio: null, limit: BOUNDS.vsLB, error });
        continue;
      }
      const o = res.orch, mk = res.make, nj = res.ninja;
      const peers = [mk ? `make -j${c} ${sec(mk.median)} (${f(mk.median / b.lowerBound)}× LB)` : 'make missing', ...(nj ? [`ninja -j${c} ${sec(nj.median)} (${f(nj.median / b.lowerBound)}× LB)`] : [])].join('; ');
      addRow({
        group: 'makespan', target: `${tgt}: orch (warmed) vs make -j${c}`, measured: `${sec(o.median)} (${f(o.median / b.lowerBound)}× LB)`, reference: peers,
        bound: `≤ ${BOUNDS.vsMake.toFixed(2)}× make`, ratio: mk ? pairedRatio(o.walls, mk.walls) : null, limit: BOUNDS.vsMake, error: o.failed || mk?.failed || (mk ? null : 'make not installed'),
      });
      addRow({
        group: 'makespan', target: `${tgt}: orch (warmed) vs lower bound`, measured: sec(o.median), reference: `${lbText}; LRP simulation ${f(b.greedyLrp / b.lowerBound)}×, FIFO ${f(b.greedyFifo / b.lowerBound)}×`,
        bound: `≤ ${BOUNDS.vsLB.toFixed(2)}× LB`, ratio: o.median == null ? null : o.median / b.lowerBound, limit: BOUNDS.vsLB, error: o.failed,
      });
      addRow({
        group: 'makespan', target: `${tgt}: orch first run (no history yet, 1 sample)`, measured: `${sec(first.wall)} (${mk ? f(first.wall / mk.median) : '—'}× make median)`, reference: lbText,
        bound: 'info', ratio: first.wall / b.lowerBound, kind: 'info',
      });
    }
  }
}

async function groupScale(tmp) {
  const S = SUITE.scale;
  const repsSmall = REPS ?? S.repsSmall, repsLarge = REPS ? Math.max(1, Math.ceil(REPS / 2)) : S.repsLarge;
  const probe = path.join(HERE, 'io-probe.mjs');
  const sizes = { small: S.small, large: S.large };
  const dirs = {};
  for (const [k, n] of Object.entries(sizes)) {
    const dag = buildDag({ shape: 'layered', n, cmd: 'true', seed: 1 });
    dirs[k] = path.join(tmp, `scale-${n}`);
    fs.mkdirSync(dirs[k], { recursive: true });
    writeAll(dag, dirs[k], { formats: ['yaml'], concurrency: CONC, name: `bench-layered-${n}` });
  }
  const res = { small: [], large: [] };
  // interleaved: small, large, small, large, small ...
  const order = [];
  for (let i = 0; i < Math.max(repsSmall, repsLarge); i++) {
    if (i < repsSmall) order.push('small');
    if (i < repsLarge) order.push('large');
  }
  // warm-up: one small run (page cache, catches a broken build before the long run)
  {
    const r = await runOnce(orchRun(dirs.small, CONC), { cwd: dirs.small, timeoutS: 30 + 0.1 * S.small });
    discard(path.join(dirs.small, 'runs'));
    log(`  [scale] warm-up N=${S.small}: ${r.ok ? sec(r.wall) : failText(r, 30 + 0.1 * S.small)}`);
  }
  for (const k of order) {
    const n = sizes[k];
    const runsDir = path.join(dirs[k], 'runs');
    discard(runsDir);
    const probeOut = path.join(dirs[k], `probe-${res[k].length}.json`);
    const timeoutS = 60 + 0.1 * n;
    const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(probe).href}`.trim(), BENCH_PROBE_OUT: probeOut };
    const r = await runOnce(orchRun(dirs[k], CONC), { cwd: dirs[k], env, timeoutS });
    let p = null;
    try { p = JSON.parse(fs.readFileSync(probeOut, 'utf8')); } catch {}
    const folder = dirSize(runsDir);
    const rec = { n, ok: r.ok, wall: r.wall, cpu: r.cpu, timeMaxRssKb: r.maxRssKb, probe: p, runFolder: folder, error: r.ok ? null : failText(r, timeoutS) };
    res[k].push(rec);
    log(`  [scale] N=${n}: ${r.ok ? sec(r.wall) : rec.error}; peak RSS ${r.maxRssKb ? f(r.maxRssKb / 1024, 0) + ' MiB' : '?'}; io ${p?.io ? f((p.io.rchar + p.io.wchar) / n / 1024, 1) + ' KiB/step' : '?'}; run folder ${f(folder.bytes / n / 1024, 1)} KiB/step, ${folder.files} files`);
    discard(runsDir);
  }
  raw.scale = { shape: 'layered', c: CONC, small: S.small, large: S.large, runs: res };
  const okL = res.large.filter((r) => r.ok), okS = res.small.filter((r) => r.ok);
  const wl = median(okL.map((r) => r.wall)), ws = median(okS.map((r) => r.wall));
  const errL = res.large.find((r) => !r.ok)?.error ?? null;
  addRow({ group: 'scale', target: `scale: ${S.large}-step layered DAG of \`true\` completes (C=${CONC})`, measured: okL.length ? `${okL.length}/${res.large.length} runs exit 0, ${sec(wl)}` : 'failed', reference: `${f((wl / S.large) * 1000, 2)} ms/step`, bound: 'exit 0', ratio: null, pass: okL.length > 0 && okL.length === res.large.length, error: errL });
  const cs = median(okS.map((r) => r.cpu)), cl = median(okL.map((r) => r.cpu));
  const cpuText = cs && cl ? `${sec(cs)} → ${sec(cl)} (${f(cl / cs)}×)` : 'not measured (no /usr/bin/time)';
  addRow({ group: 'scale', target: `scale: wall time N=${S.small} → N=${S.large}`, measured: `${sec(ws)} → ${sec(wl)}`, reference: `median of ${okS.length} and ${okL.length} runs, interleaved; CPU (user+sys) ${cpuText}`, bound: `≤ ${BOUNDS.scaleWall}×`, ratio: ws && wl ? wl / ws : null, limit: BOUNDS.scaleWall, error: errL || (okS.length ? null : res.small[0]?.error) });
  const rssL = median(okL.map((r) => r.timeMaxRssKb ?? r.probe?.maxRssKb));
  const rssS = median(okS.map((r) => r.timeMaxRssKb ?? r.probe?.maxRssKb));
  const probeRss = median(okL.map((r) => r.probe?.maxRssKb));
  const method = okL[0]?.timeMaxRssKb != null ? '/usr/bin/time %M' : 'getrusage in the orchestrator process (io-probe)';
  const mb = (kb) => (kb == null ? '—' : `${f((kb * 1024) / 1e6, 0)} MB`);
  addRow({ group: 'scale', target: `scale: peak RSS at N=${S.large}`, measured: `${mb(rssL)} (${method})`, reference: `N=${S.small}: ${mb(rssS)}; getrusage cross-check ${mb(probeRss)}`, bound: `< ${BOUNDS.rssMB} MB`, ratio: rssL == null ? null : (rssL * 1024) / 1e6 / BOUNDS.rssMB, limit: 1, strictLess: true, error: errL });
  const ioPer = (rs) => median(rs.map((r) => (r.probe?.io ? (r.probe.io.rchar + r.probe.io.wchar) / r.n : null)));
  const folderPer = (rs) => median(rs.map((r) => r.runFolder.bytes / r.n));
  const il = ioPer(okL), is = ioPer(okS);
  const kib = (x) => (x == null ? '—' : `${f(x / 1024, 1)} KiB/step`);
  addRow({ group: 'scale', target: `scale: bookkeeping O(steps): bytes read+written by the orchestrator per step, N=${S.large} vs N=${S.small}`, measured: `${kib(is)} → ${kib(il)} (/proc/self/io rchar+wchar)`, reference: `run folder ${kib(folderPer(okS))} → ${kib(folderPer(okL))}`, bound: `≤ ${BOUNDS.ioPerStep}×`, ratio: il && is ? il / is : null, limit: BOUNDS.ioPerStep, error: errL || (il == null && okL.length ? 'no /proc/self/io from the probe' : null) });
}

/** A `list` step printing `{"items": [0 … n-1]}` as JSON outputs: what for_each reads. */
const listStep = (n) => `  list:\n    output: json\n    run: |\n      node -e 'console.log(JSON.stringify({ items: Array.from({ length: ${n} }, (_, i) => i) }))'\n`;

/** Milliseconds from the end of step `from` to the event `type` of step `step`, read from a run's events.jsonl. */
function eventGapMs(runsDir, from, type, step) {
  const job = fs.readdirSync(runsDir).filter((d) => /^\d{8}-/.test(d)).sort().at(-1);
  const events = fs.readFileSync(path.join(runsDir, job, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const t = (pred) => Date.parse(events.find(pred)?.ts);
  const end = t((e) => e.type === 'step.succeeded' && e.step === from);
  const at = t((e) => e.type === type && e.step === step);
  return Number.isFinite(end) && Number.isFinite(at) ? at - end : null;
}

async function groupFanout(tmp) {
  const F = SUITE.fanout;
  const reps = REPS ?? F.reps;
  const dir = path.join(tmp, 'fanout');
  const engine = (name, spec) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'spec.yaml'), spec);
    return { name, dir: d, argv: () => orchRun(d, CONC), clean: () => discard(path.join(d, 'runs')) };
  };
  let written = `name: bench-written-${F.n}\nsteps:\n${listStep(F.n)}`;
  for (let i = 0; i < F.n; i++) written += `  count-${i}:\n    needs: [list]\n    run: "true"\n`;
  const engines = [
    engine('for_each', `name: bench-for-each-${F.n}\nsteps:\n${listStep(F.n)}  count:\n    needs: [list]\n    for_each: \${{ steps.list.outputs.items }}\n    run: "true"\n`),
    engine('written', written),
  ];
  const timeoutS = 60 + 0.1 * F.n;
  const res = await roundRobin({ label: `fanout N=${F.n}`, engines, reps, timeoutS });
  raw.fanout = { n: F.n, c: CONC, reps, engines: res };
  const fe = res.for_each, wr = res.written;
  const perStep = (w) => (w == null ? '—' : `${f((w / F.n) * 1000, 2)} ms/step`);
  addRow({
    group: 'fanout',
    target: `for_each of N=${F.n} \`true\`, C=${CONC}, vs N written-out steps`,
    measured: `${sec(fe.median)} (${perStep(fe.median)})`,
    reference: `written out ${sec(wr.median)} (${perStep(wr.median)})`,
    bound: `≤ ${BOUNDS.fanout.toFixed(2)}× written`,
    ratio: pairedRatio(fe.walls, wr.walls),
    limit: BOUNDS.fanout,
    error: fe.failed || wr.failed,
  });
  raw.fanout.trueStepS = fe.median == null ? null : fe.median / F.n;

  // Expansion: fail_fast and a failing first instance stop the other 9,999 at once; the gap is read from events.jsonl.
  const ex = engine('expand', `name: bench-expand\nsteps:\n${listStep(F.expandN)}  count:\n    needs: [list]\n    for_each: \${{ steps.list.outputs.items }}\n    max_parallel: 1\n    fail_fast: true\n    run: "false"\n`);
  const gaps = [];
  let error = null;
  for (let rep = 0; rep < reps; rep++) {
    ex.clean();
    const r = await runOnce(ex.argv(), { cwd: ex.dir, timeoutS: 120 });
    if (r.code !== 1) error = `expected exit 1 (the failing instance), got ${failText(r, 120)}`;
    gaps.push(r.code === 1 ? eventGapMs(path.join(ex.dir, 'runs'), 'list', 'step.expanded', 'count') : null);
    log(`  [fanout] expansion of ${F.expandN}: ${gaps.at(-1)} ms`);
  }
  const gap = median(gaps);
  raw.fanout.expandMs = gaps;
  addRow({ group: 'fanout', target: `expansion of ${F.expandN} items (list ends → step.expanded)`, measured: gap == null ? '—' : `${f(gap, 0)} ms`, reference: 'median of the repetitions', bound: `< ${BOUNDS.expandMs} ms`, ratio: gap == null ? null : gap / BOUNDS.expandMs, limit: 1, strictLess: true, error });
}

/** Start bench/llm-server.mjs; resolves {url, stop}. */
function startLlmServer(delayMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(HERE, 'llm-server.mjs'), String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout.setEncoding('utf8').once('data', (line) => resolve({ url: /listening (\S+)/.exec(line)[1], stop: () => child.kill('SIGKILL') }));
  });
}

async function groupLlm(tmp) {
  const L = SUITE.llm;
  const reps = REPS ?? L.reps;
  const dir = path.join(tmp, 'llm');
  fs.mkdirSync(dir, { recursive: true });
  const server = await startLlmServer(50);
  try {
    const spec = `name: bench-llm-${L.n}\nconcurrency: 32\nproviders:\n  llm: { type: openai, base_url: "${server.url}/v1", model: bench, concurrency: 32 }\nsteps:\n${listStep(L.n)}  ask:\n    needs: [list]\n    for_each: \${{ steps.list.outputs.items }}\n    prompt: question \${{ item }}\n`;
    fs.writeFileSync(path.join(dir, 'spec.yaml'), spec);
    const cacheDir = path.join(dir, 'cache');
    const orch = { name: 'orch', dir, argv: () => [...ORCH, 'run', 'spec.yaml', '--runs-dir', path.join(dir, 'runs'), '--cache-dir', cacheDir, '--concurrency', '32'], clean: () => (discard(path.join(dir, 'runs')), discard(cacheDir)) };
    const floorOut = path.join(dir, 'floor-out');
    const floor = { name: 'floor', dir, argv: () => [process.execPath, path.join(HERE, 'llm-floor.mjs'), `${server.url}/v1`, String(L.n), '32', floorOut], clean: () => discard(floorOut) };
    const res = await roundRobin({ label: `llm N=${L.n}`, engines: [orch, floor], reps, timeoutS: 120 });
    raw.llm = { n: L.n, reps, engines: res };
    const o = res.orch, fl = res.floor;
    addRow({ group: 'llm', target: `${L.n} prompt instances, 50 ms loopback, pool 32, vs the openai SDK loop`, measured: sec(o.median), reference: `llm-floor.mjs ${sec(fl.median)}`, bound: `≤ ${BOUNDS.llm.toFixed(2)}× floor`, ratio: pairedRatio(o.walls, fl.walls), limit: BOUNDS.llm, error: o.failed || fl.failed });

    // The fully cached rerun: the last repetition left its cache; only the run folders go.
    const cached = [];
    for (let rep = 0; rep < reps; rep++) {
      discard(path.join(dir, 'runs'));
      const r = await runOnce(orch.argv(), { cwd: dir, timeoutS: 120 });
      cached.push(r.wall);
      log(`  [llm] cached rerun ${rep + 1}/${reps}: ${r.ok ? sec(r.wall) : failText(r, 120)}`);
    }
    const c = median(cached);
    const perCached = c == null ? null : c / L.n;
    const perTrue = raw.fanout?.trueStepS ?? null;
    addRow({
      group: 'llm',
      target: `fully cached rerun of ${L.n} prompt instances, per step, vs a \`true\` instance (fanout group)`,
      measured: c == null ? '—' : `${sec(c)} (${f(perCached * 1000, 2)} ms/step)`,
      reference: perTrue == null ? 'run with --only fanout,llm for the comparison' : `${f(perTrue * 1000, 2)} ms per \`true\` instance at C=${CONC}`,
      bound: '≤ 1.00× a true step',
      ratio: perTrue == null || perCached == null ? null : perCached / perTrue,
      limit: 1,
      kind: perTrue == null ? 'info' : 'target',
    });
  } finally {
    server.stop();
  }
}

// ---------- main ----------
function machine() {
  const cpuInfo = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1]?.trim() || os.cpus()[0]?.model || '?';
  const ver = (cmd, a) => (which(cmd) ? spawnSync(cmd, a, { encoding: 'utf8' }).stdout.split('\n')[0].trim() : null);
  let orchVersion = null;
  try { orchVersion = spawnSync(ORCH[0], [...ORCH.slice(1), '--version'], { encoding: 'utf8' }).stdout.trim(); } catch {}
  return { nproc: os.availableParallelism?.() ?? os.cpus().length, cpu: cpuInfo, loadAvgAtStart: os.loadavg().map((x) => Number(x.toFixed(2))), memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, kernel: os.release(), make: ver('make', ['--version']), ninja: ver('ninja', ['--version']), orchestrator: orchVersion, orchCommand: ORCH.join(' '), haveTime: HAVE_TIME };
}

function renderTable(m, totalS) {
  const out = [];
  const cmd = `npm run bench${SUITE_NAME === 'full' ? '' : ` -- --suite ${SUITE_NAME}`}${args.only ? ` --only ${args.only}` : ''}${REPS ? ` --reps ${REPS}` : ''}`;
  out.push(`# orchestrator bench, suite "${SUITE_NAME}", ${new Date().toISOString()}, ${f(totalS, 0)} s`);
  out.push(`# machine: ${m.nproc} cpus (${m.cpu}), ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}; ${m.make ?? 'no make'}; ${m.ninja ? `ninja ${m.ninja}` : 'no ninja'}; orchestrator ${m.orchestrator ?? '?'} (${m.orchCommand})`);
  out.push(`# load average (1 min) at start ${m.loadAvgAtStart[0]}, at end ${os.loadavg()[0].toFixed(2)} (other work on the machine makes every figure noisier; ratios are paired per repetition)`);
  out.push(`# command: ${cmd}`);
  out.push('');
  out.push('| target | orchestrator | reference (same run) | bound | ratio | result |');
  out.push('|---|---|---|---|---|---|');
  for (const r of rows) {
    const ratioText = r.ratio == null || !Number.isFinite(r.ratio) ? '—' : `${f(r.ratio)}×`;
    const cell = (s) => String(s).replace(/\|/g, '/').replace(/\n/g, ' ');
    out.push(`| ${cell(r.target)} | ${cell(r.measured)} | ${cell(r.reference)} | ${cell(r.bound)} | ${ratioText} | ${r.result === 'FAIL' || r.result.startsWith('FAIL') ? `**${r.result}**` : r.result} |`);
  }
  const targets = rows.filter((r) => r.kind === 'target');
  const failed = targets.filter((r) => r.result !== 'PASS');
  out.push('');
  out.push('ratio: paired = median over repetitions of (orchestrator wall / reference wall in the same repetition); vs LB = median wall / lower bound; for absolute bounds, measured / bound.');
  out.push(failed.length ? `RESULT: ${targets.length - failed.length}/${targets.length} targets hold. FAIL: ${failed.map((r) => r.target).join('; ')}` : `RESULT: all ${targets.length} targets hold.`);
  return out.join('\n');
}

async function main() {
  const t0 = Date.now();
  const m = machine();
  if (!m.orchestrator) {
    console.error(`cannot run the orchestrator (${ORCH.join(' ')} --version printed nothing); build it first: npm run build`);
    process.exit(1);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bench-'));
  trashDir = path.join(tmp, '.trash');
  log(`# orchestrator bench, suite ${SUITE_NAME}, groups ${ONLY.join(',')}, temp ${tmp}`);
  if (!HAVE_NINJA) log('# ninja not on PATH: ninja columns skipped (apt-get install ninja-build to add it)');
  if (!HAVE_TIME) log('# no /usr/bin/time: peak RSS from getrusage inside the orchestrator process (bench/io-probe.mjs), no CPU times');
  try {
    if (ONLY.includes('startup')) await groupStartup(tmp);
    if (ONLY.includes('per-step')) await groupPerStep(tmp);
    if (ONLY.includes('makespan')) await groupMakespan(tmp);
    if (ONLY.includes('scale')) await groupScale(tmp);
    if (ONLY.includes('fanout')) await groupFanout(tmp);
    if (ONLY.includes('llm')) await groupLlm(tmp);
    if (ONLY.includes('workers')) raw.workers = await groupWorkers({ tmp, suite: WORKERS_SUITES[SUITE_NAME], reps: REPS, orch: ORCH, roundRobin, median, addRow, log, f, sec, discard });
    if (ONLY.includes('cache')) await groupCache(tmp, { ORCH, runOnce, median, addRow, log, sec, raw, SUITE_NAME, REPS, args, pairedRatio });
  } finally {
    if (!args.keep) rmrf(tmp);
    else log(`# kept ${tmp}`);
  }
  const totalS = (Date.now() - t0) / 1000;
  const table = renderTable(m, totalS);
  const doc = { date: new Date().toISOString(), suite: SUITE_NAME, settings: SUITE, groups: ONLY, bounds: BOUNDS, machine: m, totalS, rows, raw };
  if (JSON_OUT === '-') {
    process.stderr.write(table + '\n');
    process.stdout.write(JSON.stringify(doc, null, 1) + '\n');
  } else {
    process.stdout.write(table + '\n');
    if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify(doc, null, 1) + '\n');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
