#!/usr/bin/env node
// profile.mjs — where the orchestrator's own time goes on a generated DAG. Plain Node, no dependencies.
// Runs `node --cpu-prof bin/orchestrator.js run spec.yaml` once and prints the top self-time entries
// of the .cpuprofile, mapped back to src/ through the bundle's source maps when they exist,
// then self time summed per source file.
//
//   node bench/profile.mjs                                  # chain, N=1000 `true` steps, C=2, top 15
//   node bench/profile.mjs --shape fan --n 1000 --top 25 --keep
//   node bench/profile.mjs --profile some.cpuprofile        # only summarise an existing profile
//
// ORCH="node /other/checkout/bin/orchestrator.js" profiles another build (first word = node).
// Self time = sum of the sampling intervals whose top frame is that function. (idle) is the main
// thread waiting in the event loop (for child processes, file I/O on libuv threads, timers).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildDag, writeAll, parseArgs } from './gen.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const a = parseArgs(process.argv.slice(2));
if (a.help || a.h) {
  const src = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  console.log(src.slice(1, src.findIndex((l) => l.startsWith('import'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const TOP = Number(a.top ?? 15);

/** A path from its last src/ or node_modules/ on (builds of other checkouts read alike). */
function shorten(p) {
  const nm = p.lastIndexOf('/node_modules/');
  const i = nm >= 0 ? nm : Math.max(p.lastIndexOf('/src/'), p.lastIndexOf('/dist/'));
  return i >= 0 ? p.slice(i + 1) : p.startsWith(ROOT) ? path.relative(ROOT, p) : p;
}

// ---------- source maps (VLQ decoding, enough for "generated line:col -> source:line") ----------
const B64 = Object.fromEntries([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i]));
function decodeMappings(mappings) {
  const lines = [];
  let src = 0, sLine = 0, sCol = 0;
  for (const lineText of mappings.split(';')) {
    const segs = [];
    let gCol = 0;
    if (lineText) {
      for (const seg of lineText.split(',')) {
        const vals = [];
        let shift = 0, value = 0;
        for (const ch of seg) {
          const d = B64[ch];
          value += (d & 31) << shift;
          if (d & 32) shift += 5;
          else { vals.push(value & 1 ? -(value >>> 1) : value >>> 1); shift = 0; value = 0; }
        }
        gCol += vals[0];
        if (vals.length >= 4) { src += vals[1]; sLine += vals[2]; sCol += vals[3]; segs.push([gCol, src, sLine, sCol]); }
      }
    }
    lines.push(segs);
  }
  return lines;
}
const mapCache = new Map();
function loadMap(file) {
  if (mapCache.has(file)) return mapCache.get(file);
  let m = null;
  try {
    const js = fs.readFileSync(file, 'utf8');
    const ref = js.match(/\/\/# sourceMappingURL=(\S+)\s*$/);
    if (ref && !ref[1].startsWith('data:')) {
      const mapFile = path.resolve(path.dirname(file), ref[1]);
      const raw = JSON.parse(fs.readFileSync(mapFile, 'utf8'));
      m = { lines: decodeMappings(raw.mappings), sources: raw.sources.map((s) => shorten(path.resolve(path.dirname(mapFile), raw.sourceRoot || '', s))) };
    }
  } catch {}
  mapCache.set(file, m);
  return m;
}
/** Original "src/file.ts:line" for a 0-based generated line/column, or null. */
function original(file, line, col) {
  const m = loadMap(file);
  const segs = m?.lines[line];
  if (!segs?.length) return null;
  let best = null;
  for (const s of segs) { if (s[0] <= col) best = s; else break; }
  best ??= segs[0];
  return { source: m.sources[best[1]], line: best[2] + 1 };
}

// ---------- profile summary ----------
function where(cf) {
  if (!cf.url) return { label: '', file: cf.functionName.startsWith('(') ? cf.functionName : '(native)' };
  let file = cf.url;
  if (file.startsWith('file://')) file = fileURLToPath(file);
  const o = file.startsWith('/') ? original(file, cf.lineNumber, cf.columnNumber) : null;
  if (o) return { label: `${o.source}:${o.line}`, file: o.source, own: !o.source.startsWith('node_modules/') };
  const short = shorten(file);
  return { label: `${short}:${cf.lineNumber + 1}`, file: short.startsWith('node:') ? 'node: (built-in)' : short, own: !short.startsWith('node:') && !short.startsWith('node_modules/') };
}

function summarise(profileFile) {
  const p = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // the nearest caller in the project's own code (src/, or any non-built-in, non-node_modules frame)
  const ownCaller = (id) => {
    for (let q = parent.get(id); q !== undefined; q = parent.get(q)) {
      const cf = byId.get(q).callFrame;
      const w = where(cf);
      if (w.own) return { text: `${cf.functionName || '(anonymous)'} ${w.label}`, file: w.file };
    }
    return null;
  };
  const callerOf = (id) => ownCaller(id)?.text ?? '';
  const selfUs = new Map();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = p.endTime - p.startTime;
  const agg = new Map(), perFile = new Map(), charged = new Map();
  for (const [id, us] of selfUs) {
    const cf = byId.get(id).callFrame;
    const w = where(cf);
    const key = `${cf.functionName || '(anonymous)'}\t${w.label}\t${w.own || cf.functionName.startsWith('(') ? '' : callerOf(id)}`;
    agg.set(key, (agg.get(key) ?? 0) + us);
    perFile.set(w.file, (perFile.get(w.file) ?? 0) + us);
    const to = w.own ? w.file : cf.functionName.startsWith('(') ? cf.functionName : ownCaller(id)?.file ?? `${w.file} (no own caller)`;
    charged.set(to, (charged.get(to) ?? 0) + us);
  }
  const msf = (us) => (us / 1000).toFixed(1).padStart(8);
  const pct = (us) => ((100 * us) / total).toFixed(1).padStart(5);
  const out = [];
  out.push(`profile ${path.basename(profileFile)}: ${(total / 1000).toFixed(0)} ms sampled, ${p.samples.length} samples`);
  out.push(`\ntop ${TOP} self time (function, source):`);
  out.push('| # | self ms | % | function | where | called from (nearest own code) |\n|---|---|---|---|---|---|');
  [...agg].sort((x, y) => y[1] - x[1]).slice(0, TOP).forEach(([k, us], i) => {
    const [fn, loc, from] = k.split('\t');
    out.push(`| ${i + 1} | ${msf(us).trim()} | ${pct(us).trim()} | ${fn} | ${loc} | ${from} |`);
  });
  out.push(`\nself time per source file (top ${TOP}):`);
  out.push('| self ms | % | file |\n|---|---|---|');
  for (const [file, us] of [...perFile].sort((x, y) => y[1] - x[1]).slice(0, TOP)) out.push(`| ${msf(us).trim()} | ${pct(us).trim()} | ${file} |`);
  out.push(`\nself time charged to the nearest own source file up the stack (built-ins and dependencies included; top ${TOP}):`);
  out.push('| ms | % | own file |\n|---|---|---|');
  for (const [file, us] of [...charged].sort((x, y) => y[1] - x[1]).slice(0, TOP)) out.push(`| ${msf(us).trim()} | ${pct(us).trim()} | ${file} |`);
  return out.join('\n');
}

// ---------- main ----------
if (a.profile) {
  console.log(summarise(a.profile));
} else {
  // relative paths in $ORCH are taken from the current folder (the engines run in temp folders)
const ORCH = process.env.ORCH ? process.env.ORCH.trim().split(/\s+/).map((w) => (!path.isAbsolute(w) && w.includes('/') && fs.existsSync(w) ? path.resolve(w) : w)) : [process.execPath, path.join(ROOT, 'bin/orchestrator.js')];
  const shape = a.shape ?? 'chain', n = Number(a.n ?? 1000), c = Number(a.concurrency ?? 2);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-profile-'));
  const dag = buildDag({ shape, n, cmd: a.cmd ?? 'true', seed: Number(a.seed ?? 1) });
  writeAll(dag, tmp, { formats: ['yaml'], concurrency: c, name: `profile-${shape}-${n}` });
  const profDir = path.join(tmp, 'prof');
  const t0 = Date.now();
  const r = spawnSync(ORCH[0], ['--cpu-prof', '--cpu-prof-dir', profDir, ...ORCH.slice(1), 'run', 'spec.yaml', '--runs-dir', path.join(tmp, 'runs'), '--concurrency', String(c)], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = (Date.now() - t0) / 1000;
  if (r.status !== 0) {
    console.error(`orchestrator exited ${r.status}: ${r.stderr.slice(-2000)}`);
    process.exit(1);
  }
  const profs = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f));
  console.log(`# ${ORCH.join(' ')} run: ${shape} N=${dag.n} \`${a.cmd ?? 'true'}\` C=${c}: ${wall.toFixed(2)} s wall (profiling on)`);
  for (const pf of profs) console.log(summarise(pf));
  if (a.keep) console.log(`\n(kept ${tmp})`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
