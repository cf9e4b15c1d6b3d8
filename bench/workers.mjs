// workers.mjs — the `workers` group of `npm run bench` (run.mjs imports it): runs through BullMQ/Redis workers
// side by side with local runs. Starts its own redis-server (Debian's; `--save '' --appendonly no
// --maxmemory-policy noeviction`) on a free loopback port and its own `orchestrator worker` processes, and
// stops them all at the end.
//
//   dispatch   N `true` steps (layered DAG; full 1000, quick 200) through 3 local workers with 1 slot each vs the
//              same spec run locally at concurrency 3, interleaved, paired: (wall(workers) - wall(local)) / N
//              <= 5 ms per step.
//   scale      the skewed N=60 sleep DAG of the makespan group through 3 workers x 4 slots (concurrency 12):
//              makespan <= 1.15x its lower bound at C=12; the same DAG locally at C=4 (info), which cannot beat
//              its own bound at C=4: the speed-up is the ratio of the two; and locally at C=12 (info: what this
//              machine allows with no dispatch at all).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { buildDag, bounds, writeAll } from './gen.mjs';

const BOUND_MS_PER_STEP = 5;
const BOUND_VS_LB = 1.15;

/** A free port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Wait until `ok()` (polling); throws `why()` after `timeoutMs`. */
async function until(ok, timeoutMs, why) {
  const t = Date.now();
  while (!ok()) {
    if (Date.now() - t > timeoutMs) throw new Error(why());
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startRedis(tmp) {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) return { error: 'redis-server not installed (apt-get install redis-server)' };
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(tmp, 'redis-'));
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await until(() => /Ready to accept connections/.test(out) || child.exitCode !== null, 20_000, () => `redis-server did not start: ${out}`);
  return { url: `redis://127.0.0.1:${port}`, child };
}

/** Start `count` workers of `slots` each in `dir` (their checkout); resolves when all have taken their place. */
async function startWorkers({ orch, redisUrl, dir, count, slots }) {
  const workers = [];
  for (let i = 1; i <= count; i++) {
    const child = spawn(orch[0], [...orch.slice(1), 'worker', '--redis', redisUrl, '--name', `bench-w${i}`, '--concurrency', String(slots), '--dir', dir], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const w = { child, out: '' };
    child.stderr.on('data', (d) => (w.out += d));
    workers.push(w);
  }
  await until(() => workers.every((w) => w.out.includes('took its place') || w.child.exitCode !== null), 30_000, () => 'workers did not start');
  const dead = workers.find((w) => w.child.exitCode !== null);
  if (dead) throw new Error(`a worker exited: ${dead.out}`);
  return workers;
}

/** Seconds from job.started to job.finished of each run folder under `runsDir`. */
function jobDurations(runsDir) {
  if (!fs.existsSync(runsDir)) return [];
  return fs.readdirSync(runsDir).filter((d) => !d.startsWith('.')).flatMap((d) => {
    const file = path.join(runsDir, d, 'events.jsonl');
    if (!fs.existsSync(file)) return [];
    const events = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const started = events.find((e) => e.type === 'job.started'), finished = events.find((e) => e.type === 'job.finished');
    return started && finished ? [(Date.parse(finished.ts) - Date.parse(started.ts)) / 1000] : [];
  });
}

async function stopAll(children) {
  await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => { c.once('exit', r); c.kill('SIGTERM'); setTimeout(() => c.kill('SIGKILL'), 10_000).unref(); })));
}

/** The group: adds its rows through `h.addRow`. `h`: {tmp, suite, reps, orch, runOnce, roundRobin, pairedRatio, median, addRow, log, f, sec, failText}. */
export async function groupWorkers(h) {
  const S = h.suite;
  const redis = await startRedis(h.tmp);
  if (redis.error) {
    h.addRow({ group: 'workers', target: `dispatch: ${S.n} \`true\` steps through 3 workers vs local`, measured: '—', bound: `≤ ${BOUND_MS_PER_STEP} ms/step more`, ratio: null, limit: 1, error: redis.error });
    h.addRow({ group: 'workers', target: 'scale: skewed N=60 through 3 workers × 4 slots vs LB at C=12', measured: '—', bound: `≤ ${BOUND_VS_LB}× LB`, ratio: null, limit: BOUND_VS_LB, error: redis.error });
    return {};
  }
  const raw = {};
  try {
    // dispatch overhead
    const dag = buildDag({ shape: 'layered', n: S.n, cmd: 'true', seed: 1 });
    const dir = path.join(h.tmp, 'workers-dispatch');
    fs.mkdirSync(dir, { recursive: true });
    writeAll(dag, dir, { formats: ['yaml'], concurrency: 3, name: `bench-dispatch-${S.n}` });
    let workers = await startWorkers({ orch: h.orch, redisUrl: redis.url, dir, count: 3, slots: 1 });
    const timeoutS = 60 + S.n * 0.2;
    const run = (extra) => [...h.orch, 'run', 'spec.yaml', '--runs-dir', path.join(dir, 'runs'), '--concurrency', '3', ...extra];
    const engines = [
      { name: 'local', dir, argv: () => run([]), clean: () => h.discard(path.join(dir, 'runs')) },
      { name: 'workers', dir, argv: () => run(['--workers', redis.url]), clean: () => h.discard(path.join(dir, 'runs')) },
    ];
    const res = await h.roundRobin({ label: `workers dispatch N=${S.n}`, engines, reps: h.reps ?? S.reps, timeoutS });
    await stopAll(workers.map((w) => w.child));
    const extraMs = h.median(res.workers.walls.map((w, i) => (w != null && res.local.walls[i] != null ? ((w - res.local.walls[i]) * 1000) / S.n : null)));
    raw.dispatch = { n: S.n, res, extraMsPerStep: extraMs };
    h.addRow({
      group: 'workers', target: `dispatch: ${S.n} \`true\` steps through 3 local workers (1 slot each) vs a local run, C=3`,
      measured: `${h.sec(res.workers.median)} (${h.f(extraMs)} ms/step more)`, reference: `local ${h.sec(res.local.median)}`,
      bound: `≤ ${BOUND_MS_PER_STEP} ms/step more`, ratio: extraMs == null ? null : extraMs / BOUND_MS_PER_STEP, limit: 1, error: res.workers.failed || res.local.failed,
    });

    // scale: skewed N=60 at 3 workers x 4 slots
    const sdag = buildDag({ shape: 'skewed', n: 60, cmd: 'sleep', min: S.min, max: S.max, seed: 1 });
    const b12 = bounds(sdag, 12), b4 = bounds(sdag, 4);
    const sdir = path.join(h.tmp, 'workers-scale');
    fs.mkdirSync(sdir, { recursive: true });
    writeAll(sdag, sdir, { formats: ['yaml'], concurrency: 12, name: 'bench-workers-skewed-60' });
    workers = await startWorkers({ orch: h.orch, redisUrl: redis.url, dir: sdir, count: 3, slots: 4 });
    const sTimeout = 60 + 3 * b4.totalWork;
    const srun = (c, extra, runs = `runs-${c}`) => [...h.orch, 'run', 'spec.yaml', '--runs-dir', path.join(sdir, runs), '--concurrency', String(c), ...extra];
    const sres = await h.roundRobin({
      label: 'workers skewed N=60',
      engines: [
        { name: 'workers', dir: sdir, argv: () => srun(12, ['--workers', redis.url]) },
        { name: 'local', dir: sdir, argv: () => srun(4, []) },
        // What this machine allows at C=12 with no dispatch at all: the floor the workers' figure stands on.
        { name: 'local12', dir: sdir, argv: () => srun(12, [], 'runs-12-local') },
      ],
      reps: h.reps ?? S.reps,
      timeoutS: sTimeout,
    });
    await stopAll(workers.map((w) => w.child));
    raw.scale = { bounds12: b12, bounds4: b4, res: sres };
    h.addRow({
      group: 'workers', target: `scale: skewed N=60, sleeps ${S.min}–${S.max} s, 3 workers × 4 slots (C=12) vs LB at C=12`,
      measured: `${h.sec(sres.workers.median)} (${h.f(sres.workers.median / b12.lowerBound)}× LB)`, reference: `LB ${h.f(b12.lowerBound, 3)} s; local C=4 ${h.sec(sres.local.median)} (${h.f(sres.local.median / b4.lowerBound)}× its LB ${h.f(b4.lowerBound, 3)} s); speed-up ${h.f(sres.local.median / sres.workers.median)}×; local C=12 (no dispatch) ${h.sec(sres.local12.median)} (${h.f(sres.local12.median / b12.lowerBound)}× LB)`,
      bound: `≤ ${BOUND_VS_LB}× LB`, ratio: sres.workers.median == null ? null : sres.workers.median / b12.lowerBound, limit: BOUND_VS_LB, error: sres.workers.failed,
    });
    // The same runs from their own records: job.started to job.finished, without the process's start-up and exit
    // (Node's, ~0.2 s here, and loading BullMQ) that the wall figure above includes.
    const jobW = h.median(jobDurations(path.join(sdir, 'runs-12'))), jobL = h.median(jobDurations(path.join(sdir, 'runs-12-local')));
    raw.scale.jobSeconds = { workers: jobW, local12: jobL };
    h.addRow({
      group: 'workers', target: 'scale, the job alone (job.started → job.finished in events.jsonl): 3 workers × 4 slots vs LB at C=12',
      measured: `${h.sec(jobW)} (${h.f(jobW / b12.lowerBound)}× LB)`, reference: `local C=12 ${h.sec(jobL)} (${h.f(jobL / b12.lowerBound)}× LB)`,
      bound: 'info', ratio: jobW == null ? null : jobW / b12.lowerBound, kind: 'info',
    });
  } finally {
    await stopAll([redis.child]);
  }
  return raw;
}

export const WORKERS_SUITES = { quick: { n: 200, reps: 2, min: 0.05, max: 0.5 }, full: { n: 1000, reps: 3, min: 0.05, max: 0.5 } };
