#!/usr/bin/env node
// floor-orch.mjs — a deliberately minimal Node scheduler, NOT the product: a yardstick for what a
// Node CLI pays per shell step on this machine (copied unchanged in behaviour from the team's
// shared DAG-bench harness). bench/run.mjs times it beside the orchestrator ("per-step" targets).
//
//   node bench/floor-orch.mjs run SPEC.yaml --runs-dir DIR [--concurrency N] [--policy fifo|lrp] [--logs file|none]
//
// Reads only the subset gen.mjs writes (name, concurrency, steps: id: needs: [..] run: "..").
// Ready-queue list scheduler; each step is `/bin/sh -c RUN`, stdout+stderr to DIR/<run>/logs/<id>.log
// (--logs file, default) or discarded (--logs none). events.jsonl is written with one buffered
// stream, manifest.json at the end. No retries, no timeouts, no validation beyond cycles.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
if (argv[0] !== 'run' || !argv[1]) { console.error('usage: floor-orch.mjs run SPEC.yaml --runs-dir DIR [--concurrency N]'); process.exit(2); }

const text = fs.readFileSync(argv[1], 'utf8');
const spec = { name: 'x', concurrency: 1, steps: {} };
let cur = null;
for (const line of text.split('\n')) {
  let m;
  if ((m = line.match(/^name:\s*(.*)$/))) spec.name = m[1].trim();
  else if ((m = line.match(/^concurrency:\s*(\d+)/))) spec.concurrency = Number(m[1]);
  else if ((m = line.match(/^ {2}([A-Za-z0-9_.-]+):\s*$/))) spec.steps[(cur = m[1])] = { needs: [], run: '' };
  else if ((m = line.match(/^ {4}needs:\s*\[(.*)\]/))) spec.steps[cur].needs = m[1].split(',').map((s) => s.trim()).filter(Boolean);
  else if ((m = line.match(/^ {4}run:\s*(.*)$/))) spec.steps[cur].run = m[1].startsWith('"') ? JSON.parse(m[1]) : m[1];
}
const C = Number(opt('--concurrency', spec.concurrency)) || 1;
const policy = opt('--policy', 'fifo');
const logs = opt('--logs', 'file');
const ids = Object.keys(spec.steps);
const children = Object.fromEntries(ids.map((id) => [id, []]));
const indeg = {};
for (const id of ids) { indeg[id] = spec.steps[id].needs.length; for (const d of spec.steps[id].needs) children[d].push(id); }

// priority for lrp: longest remaining path counted in steps (durations unknown to a real scheduler)
const rank = {};
if (policy === 'lrp') {
  const order = []; const deg = { ...indeg }; const q = ids.filter((i) => !deg[i]);
  while (q.length) { const x = q.pop(); order.push(x); for (const c of children[x]) if (!--deg[c]) q.push(c); }
  for (const x of order.reverse()) rank[x] = 1 + Math.max(0, ...children[x].map((c) => rank[c]));
}

const runId = new Date().toISOString().replace(/[:.]/g, '-') + '-' + process.pid;
const dir = path.join(opt('--runs-dir', 'runs'), runId);
fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
const ev = fs.createWriteStream(path.join(dir, 'events.jsonl'));
const emit = (o) => ev.write(JSON.stringify({ t: Date.now(), ...o }) + '\n');
const result = {};
const ready = ids.filter((i) => !indeg[i]);
let running = 0, done = 0, failed = false;
const t0 = Date.now();

await new Promise((resolve) => {
  const pump = () => {
    while (running < C && ready.length && !failed) {
      let k = 0;
      if (policy === 'lrp') for (let j = 1; j < ready.length; j++) if (rank[ready[j]] > rank[ready[k]]) k = j;
      const id = ready.splice(k, 1)[0];
      running++;
      const start = Date.now();
      emit({ ev: 'start', step: id });
      let stdio = 'ignore', fd = null;
      if (logs === 'file') { fd = fs.openSync(path.join(dir, 'logs', id + '.log'), 'w'); stdio = ['ignore', fd, fd]; }
      const p = spawn('/bin/sh', ['-c', spec.steps[id].run], { stdio });
      if (fd !== null) fs.closeSync(fd);
      p.on('exit', (code) => {
        running--; done++;
        result[id] = { code, ms: Date.now() - start };
        emit({ ev: 'end', step: id, code });
        if (code !== 0) failed = true;
        else for (const c of children[id]) if (!--indeg[c]) ready.push(c);
        if (done === ids.length || (failed && running === 0)) resolve();
        else pump();
      });
    }
  };
  if (!ids.length) resolve(); else pump();
});
ev.end();
fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ name: spec.name, runId, concurrency: C, ok: !failed, ms: Date.now() - t0, steps: result }));
process.exitCode = failed ? 1 : 0;
