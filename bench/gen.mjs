#!/usr/bin/env node
// gen.mjs — generate a benchmark DAG and emit it for orchestrator, make and ninja.
// Plain Node (>=20), no dependencies. Usable as a CLI and as a module (run.mjs imports it).
// Adapted from the team's shared DAG-bench harness.
//
//   node gen.mjs --shape chain|fan|layered|skewed --n N [options] [--out DIR]
//
// Options:
//   --shape S         chain | fan (1 -> N-2 -> 1) | layered (random, seeded) | skewed (punishes level-by-level)
//   --n N             number of nodes (default 100)
//   --cmd C           true  -> every command is `true` (overhead runs)
//                     sleep -> `sleep <s>` with seeded durations (makespan runs)      (default true)
//   --min S --max S   duration range in seconds for --cmd sleep (default 0.05 .. 0.5)
//   --seed K          PRNG seed (default 1)
//   --layers L        layered: number of layers (default round(sqrt(N)))
//   --width W         skewed: short tasks per level (default 3; N = levels * (W + 1))
//   --concurrency C   concurrency written into the spec and used for the bounds (default 2);
//                     may be a comma list for bounds (first one goes into the spec)
//   --name NAME       the spec's `name:` (default bench)
//   --out DIR         write spec.yaml, Makefile, build.ninja, dag.json into DIR
//   --formats LIST    comma list of yaml,make,ninja,json (default: all)
//   --json            print the bounds as JSON instead of text
//
// The "bounds" printed for weighted DAGs (cmd sleep):
//   critical path (CP), total work / C, LB = max(CP, work/C)  — lower bound on makespan
//   level-by-level: levels = longest-path depth; each level is run as a batch on C slots
//                   (list-scheduled in node order), with a barrier between levels
//   greedy FIFO:    ready-queue list scheduler, ready tasks started in the order they became ready
//   greedy LRP:     ready-queue list scheduler, longest-remaining-path-first priority
// All simulations assume zero per-task overhead.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// ---------- PRNG ----------
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round3 = (x) => Math.round(x * 1000) / 1000;

// ---------- DAG construction ----------
// A DAG is { shape, n, nodes: [{ id, deps: [idx...], dur }] } with deps pointing to lower indices.
function ids(n) {
  const w = String(Math.max(n - 1, 0)).length;
  return Array.from({ length: n }, (_, i) => 't' + String(i).padStart(w, '0'));
}

export function buildDag(opts) {
  const o = { shape: 'chain', n: 100, cmd: 'true', min: 0.05, max: 0.5, seed: 1, width: 3, ...opts };
  const n = o.n | 0;
  if (n < 1) throw new Error('--n must be >= 1');
  const rnd = mulberry32(o.seed);
  const dur = () => round3(o.min + (o.max - o.min) * rnd());
  const deps = Array.from({ length: n }, () => []);
  const durs = new Array(n).fill(0);
  const kind = new Array(n).fill('');
  const shape = o.shape;

  if (shape === 'chain') {
    for (let i = 1; i < n; i++) deps[i] = [i - 1];
    for (let i = 0; i < n; i++) durs[i] = dur();
  } else if (shape === 'fan') {
    // 1 -> N-2 -> 1
    if (n < 3) throw new Error('fan needs N >= 3');
    for (let i = 1; i < n - 1; i++) deps[i] = [0];
    deps[n - 1] = Array.from({ length: n - 2 }, (_, k) => k + 1);
    for (let i = 0; i < n; i++) durs[i] = dur();
  } else if (shape === 'layered') {
    const L = Math.max(1, Math.min(n, o.layers ? o.layers | 0 : Math.round(Math.sqrt(n))));
    // spread nodes evenly over layers
    const layerOf = new Array(n);
    const layerStart = [];
    for (let l = 0, i = 0; l < L; l++) {
      const cnt = Math.floor(n / L) + (l < n % L ? 1 : 0);
      layerStart.push(i);
      for (let k = 0; k < cnt; k++) layerOf[i++] = l;
    }
    layerStart.push(n);
    for (let i = 0; i < n; i++) {
      const l = layerOf[i];
      if (l > 0) {
        const prevLo = layerStart[l - 1], prevHi = layerStart[l];
        const earlierHi = layerStart[l];
        const want = 1 + Math.floor(rnd() * 3); // 1..3
        const s = new Set();
        s.add(prevLo + Math.floor(rnd() * (prevHi - prevLo))); // one from the previous layer
        let guard = 0;
        while (s.size < Math.min(want, earlierHi) && guard++ < 100) s.add(Math.floor(rnd() * earlierHi));
        deps[i] = [...s].sort((a, b) => a - b);
      }
      durs[i] = dur();
    }
  } else if (shape === 'skewed') {
    // Levels of (1 long + W short). Short j of level i depends on shorts j and j+1 of level i-1
    // (wrapping). The long task of level i depends on short 0 of level i-1 — never on a long task,
    // and nothing depends on a long task. So level i's long task sits in level i, but no later
    // work waits for it: a level-by-level scheduler pays max(long) every level, a ready-queue
    // scheduler overlaps the longs with the short chains.
    const W = Math.max(1, o.width | 0);
    const per = W + 1;
    const K = Math.floor(n / per);
    if (K < 1) throw new Error(`skewed needs N >= width+1 (${per})`);
    const nn = K * per; // trailing remainder is dropped
    const longLo = o.min + 0.8 * (o.max - o.min), longHi = o.max;
    const shortLo = o.min, shortHi = o.min + 0.1 * (o.max - o.min);
    const idx = (lvl, j) => lvl * per + j; // j=0 long, j=1..W short
    for (let lvl = 0; lvl < K; lvl++) {
      kind[idx(lvl, 0)] = 'long';
      durs[idx(lvl, 0)] = round3(longLo + (longHi - longLo) * rnd());
      if (lvl > 0) deps[idx(lvl, 0)] = [idx(lvl - 1, 1)];
      for (let j = 1; j <= W; j++) {
        const i = idx(lvl, j);
        kind[i] = 'short';
        durs[i] = round3(shortLo + (shortHi - shortLo) * rnd());
        if (lvl > 0) {
          const a = idx(lvl - 1, j), b = idx(lvl - 1, 1 + (j % W));
          deps[i] = a === b ? [a] : [Math.min(a, b), Math.max(a, b)];
        }
      }
    }
    deps.length = nn; durs.length = nn; kind.length = nn;
  } else {
    throw new Error(`unknown shape ${shape}`);
  }

  const N = deps.length;
  const names = ids(N);
  const nodes = names.map((id, i) => ({
    id,
    deps: deps[i],
    dur: o.cmd === 'sleep' ? durs[i] : 0,
    cmd: o.cmd === 'sleep' ? `sleep ${durs[i]}` : 'true',
    ...(kind[i] ? { kind: kind[i] } : {}),
  }));
  return { shape, n: N, cmd: o.cmd, seed: o.seed, nodes };
}

// ---------- analysis ----------
function children(dag) {
  const ch = dag.nodes.map(() => []);
  dag.nodes.forEach((nd, i) => nd.deps.forEach((d) => ch[d].push(i)));
  return ch;
}

export function levels(dag) {
  const lv = new Array(dag.n).fill(0);
  for (let i = 0; i < dag.n; i++) for (const d of dag.nodes[i].deps) lv[i] = Math.max(lv[i], lv[d] + 1);
  return lv; // deps always have lower indices, so one pass suffices
}

// bottom level: longest path from node to a sink, including the node itself
export function bottomLevels(dag) {
  const ch = children(dag);
  const bl = new Array(dag.n).fill(0);
  for (let i = dag.n - 1; i >= 0; i--) {
    let m = 0;
    for (const c of ch[i]) m = Math.max(m, bl[c]);
    bl[i] = dag.nodes[i].dur + m;
  }
  return bl;
}

// list-schedule `tasks` (array of durations, in order) on c identical slots, all released at 0
function batchMakespan(durs, c) {
  const slots = new Array(Math.min(c, durs.length)).fill(0);
  for (const d of durs) {
    let k = 0;
    for (let s = 1; s < slots.length; s++) if (slots[s] < slots[k]) k = s;
    slots[k] += d;
  }
  return slots.length ? Math.max(...slots) : 0;
}

export function simulateLevelByLevel(dag, c) {
  const lv = levels(dag);
  const byLevel = [];
  dag.nodes.forEach((nd, i) => (byLevel[lv[i]] ||= []).push(nd.dur));
  return byLevel.reduce((t, ds) => t + batchMakespan(ds, c), 0);
}

// Event-driven ready-queue list scheduler. prio(i) larger = earlier; ties -> ready order, then index.
export function simulateGreedy(dag, c, policy = 'fifo') {
  const n = dag.n;
  const ch = children(dag);
  const indeg = dag.nodes.map((nd) => nd.deps.length);
  const bl = policy === 'lrp' ? bottomLevels(dag) : null;
  let seq = 0;
  const ready = []; // {i, seq}
  for (let i = 0; i < n; i++) if (indeg[i] === 0) ready.push({ i, seq: seq++ });
  const running = []; // {i, end}
  let t = 0, done = 0;
  const pick = () => {
    let k = 0;
    for (let j = 1; j < ready.length; j++) {
      const a = ready[j], b = ready[k];
      if (bl) {
        if (bl[a.i] > bl[b.i] + 1e-12 || (Math.abs(bl[a.i] - bl[b.i]) <= 1e-12 && a.seq < b.seq)) k = j;
      } else if (a.seq < b.seq) k = j;
    }
    return ready.splice(k, 1)[0];
  };
  while (done < n) {
    while (running.length < c && ready.length) {
      const r = pick();
      running.push({ i: r.i, end: t + dag.nodes[r.i].dur });
    }
    if (!running.length) throw new Error('deadlock (cycle?)');
    // advance to the next completion(s)
    const tn = Math.min(...running.map((r) => r.end));
    t = tn;
    const finished = running.filter((r) => r.end <= tn + 1e-12).sort((a, b) => a.i - b.i);
    for (const f of finished) {
      running.splice(running.indexOf(f), 1);
      done++;
      for (const x of ch[f.i]) if (--indeg[x] === 0) ready.push({ i: x, seq: seq++ });
    }
  }
  return t;
}

export function bounds(dag, c) {
  const bl = bottomLevels(dag);
  const cp = Math.max(0, ...bl);
  const work = dag.nodes.reduce((s, nd) => s + nd.dur, 0);
  const lv = levels(dag);
  return {
    concurrency: c,
    levels: Math.max(0, ...lv) + 1,
    criticalPath: round3(cp),
    totalWork: round3(work),
    workOverC: round3(work / c),
    lowerBound: round3(Math.max(cp, work / c)),
    levelByLevel: round3(simulateLevelByLevel(dag, c)),
    greedyFifo: round3(simulateGreedy(dag, c, 'fifo')),
    greedyLrp: round3(simulateGreedy(dag, c, 'lrp')),
  };
}

// ---------- emitters ----------
const yq = (s) => JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar

export function toYaml(dag, concurrency = 2, name = 'bench') {
  const out = [`name: ${name}`, `concurrency: ${concurrency}`, 'steps:'];
  for (const nd of dag.nodes) {
    out.push(`  ${nd.id}:`);
    if (nd.deps.length) out.push(`    needs: [${nd.deps.map((d) => dag.nodes[d].id).join(', ')}]`);
    out.push(`    run: ${yq(nd.cmd)}`);
  }
  return out.join('\n') + '\n';
}

function sinks(dag) {
  const has = new Array(dag.n).fill(false);
  dag.nodes.forEach((nd) => nd.deps.forEach((d) => (has[d] = true)));
  return dag.nodes.filter((_, i) => !has[i]).map((nd) => nd.id);
}

export function toMakefile(dag) {
  // All targets phony (always run). `@` keeps make from echoing. Note: GNU make execs a
  // metacharacter-free recipe (`true`, `sleep 0.1`) directly, without /bin/sh; ninja starts
  // one `/bin/sh -c` per edge.
  const all = sinks(dag);
  const out = ['# generated by gen.mjs', '.SUFFIXES:', 'MAKEFLAGS += -r', `.PHONY: all ${dag.nodes.map((n) => n.id).join(' ')}`, '', `all: ${all.join(' ')}`, ''];
  for (const nd of dag.nodes) {
    out.push(`${nd.id}:${nd.deps.length ? ' ' + nd.deps.map((d) => dag.nodes[d].id).join(' ') : ''}`);
    out.push(`\t@${nd.cmd}`);
  }
  return out.join('\n') + '\n';
}

export function toNinja(dag) {
  // Outputs are never created, so every edge is dirty on every run (always-run edges).
  const out = ['# generated by gen.mjs', 'ninja_required_version = 1.3', 'rule r', '  command = $cmd', '  description = $out', ''];
  for (const nd of dag.nodes) {
    out.push(`build ${nd.id}: r${nd.deps.length ? ' ' + nd.deps.map((d) => dag.nodes[d].id).join(' ') : ''}`);
    out.push(`  cmd = ${nd.cmd}`);
  }
  out.push('', `build all: phony ${sinks(dag).join(' ')}`, 'default all', '');
  return out.join('\n');
}

export function writeAll(dag, dir, { concurrency = 2, name = 'bench', formats = ['yaml', 'make', 'ninja', 'json'] } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const files = {};
  const w = (f, s) => { fs.writeFileSync(path.join(dir, f), s); files[f] = path.join(dir, f); };
  if (formats.includes('yaml')) w('spec.yaml', toYaml(dag, concurrency, name));
  if (formats.includes('make')) w('Makefile', toMakefile(dag));
  if (formats.includes('ninja')) w('build.ninja', toNinja(dag));
  if (formats.includes('json')) w('dag.json', JSON.stringify(dag));
  return files;
}

export function formatBounds(b) {
  const f = (x) => x.toFixed(3).padStart(8);
  return [
    `  C=${b.concurrency}  levels=${b.levels}  work=${b.totalWork}s`,
    `    critical path        ${f(b.criticalPath)} s`,
    `    work / C             ${f(b.workOverC)} s`,
    `    lower bound (max)    ${f(b.lowerBound)} s`,
    `    level-by-level sim   ${f(b.levelByLevel)} s  (${(b.levelByLevel / b.lowerBound).toFixed(2)}x LB)`,
    `    greedy FIFO sim      ${f(b.greedyFifo)} s  (${(b.greedyFifo / b.lowerBound).toFixed(2)}x LB)`,
    `    greedy LRP sim       ${f(b.greedyLrp)} s  (${(b.greedyLrp / b.lowerBound).toFixed(2)}x LB)`,
  ].join('\n');
}

// ---------- CLI ----------
export function parseArgs(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (!k.startsWith('--')) { (a._ ||= []).push(k); continue; }
    const key = k.slice(2);
    const nxt = argv[i + 1];
    if (nxt === undefined || nxt.startsWith('--')) a[key] = true;
    else { a[key] = nxt; i++; }
  }
  return a;
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.help || a.h) {
    const src = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n');
    console.log(src.slice(1, src.findIndex((l) => l.startsWith('import'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    return;
  }
  const cs = String(a.concurrency ?? '2').split(',').map(Number);
  const dag = buildDag({
    shape: a.shape ?? 'chain',
    n: Number(a.n ?? 100),
    cmd: a.cmd ?? 'true',
    min: Number(a.min ?? 0.05),
    max: Number(a.max ?? 0.5),
    seed: Number(a.seed ?? 1),
    layers: a.layers ? Number(a.layers) : undefined,
    width: Number(a.width ?? 3),
  });
  if (a.out) {
    const formats = String(a.formats ?? 'yaml,make,ninja,json').split(',');
    const files = writeAll(dag, a.out, { concurrency: cs[0], name: a.name ?? 'bench', formats });
    if (!a.json) console.error(`wrote ${Object.values(files).join(' ')}`);
  }
  const bs = cs.map((c) => bounds(dag, c));
  if (a.json) {
    console.log(JSON.stringify({ shape: dag.shape, n: dag.n, cmd: dag.cmd, seed: dag.seed, bounds: bs }, null, 2));
  } else {
    console.log(`DAG shape=${dag.shape} N=${dag.n} cmd=${dag.cmd} seed=${dag.seed} edges=${dag.nodes.reduce((s, x) => s + x.deps.length, 0)}`);
    if (dag.cmd === 'sleep') bs.forEach((b) => console.log(formatBounds(b)));
    else console.log('  (unweighted: all commands are `true`; bounds are 0 — use --cmd sleep for makespan bounds)');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) main();
