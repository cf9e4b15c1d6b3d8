// cache-group.mjs — the `cache` group of bench/run.mjs (issue 16): cached run steps.
//   chain   1,000 steps (quick 300) in a chain, each with 5 input files and one output file, concurrency 2:
//           the fully cached rerun / the same spec run with --no-cache (every step runs and its result is
//           stored), paired per repetition: <= 0.25.
//   dag     a 200-task DAG (each task: one input file, one output file, needs up to two earlier tasks),
//           cached no-op (nothing changed since the last run): the orchestrator's wall vs wireit's and
//           Turborepo's on the same DAG, each a cached no-op too: < 1.00 each. wireit and turbo are
//           installed from npm into the bench's temp folder only with --with-others (versions in the table);
//           without it, the orchestrator's figure is reported alone (info).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/** Versions asked of npm with --with-others: majors that support Node 20. */
const WIREIT = 'wireit@0.14';
const TURBO = 'turbo@2';

/** Write `n` files under dir/in/<name>/ and a spec chaining `n` cached steps. */
function writeChain(dir, n) {
  fs.rmSync(dir, { recursive: true, force: true });
  const lines = ['name: bench-cache-chain', 'concurrency: 2', 'steps:'];
  for (let i = 0; i < n; i++) {
    const d = path.join(dir, 'in', `s${i}`);
    fs.mkdirSync(d, { recursive: true });
    for (let k = 0; k < 5; k++) fs.writeFileSync(path.join(d, `f${k}.txt`), `step ${i} file ${k}\n`);
    lines.push(`  s${i}:`, ...(i > 0 ? [`    needs: [s${i - 1}]`] : []), `    cache: { inputs: [in/s${i}/**], outputs: [out/s${i}.txt] }`, `    run: mkdir -p out && cat in/s${i}/*.txt > out/s${i}.txt`);
  }
  fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'spec.yaml'), lines.join('\n') + '\n');
}

/** Task i needs up to two earlier tasks (a seeded shape, the same every run). */
function dagNeeds(n) {
  const needs = [];
  for (let i = 0; i < n; i++) {
    const set = new Set();
    if (i > 0) set.add(i - 1 - ((i * 7) % Math.min(i, 5)));
    if (i > 10) set.add((i * 13) % (i - 5));
    needs.push([...set]);
  }
  return needs;
}

/** The same 200-task DAG for the orchestrator, wireit (one package.json) and turbo (a workspace per task). */
function writeDag(dir, n) {
  fs.rmSync(dir, { recursive: true, force: true });
  const needs = dagNeeds(n);
  const orch = path.join(dir, 'orch');
  fs.mkdirSync(path.join(orch, 'in'), { recursive: true });
  fs.mkdirSync(path.join(orch, 'out'), { recursive: true });
  const spec = ['name: bench-cache-dag', 'concurrency: 2', 'steps:'];
  for (let i = 0; i < n; i++) {
    fs.writeFileSync(path.join(orch, 'in', `t${i}.txt`), `task ${i}\n`);
    spec.push(`  t${i}:`, ...(needs[i].length ? [`    needs: [${needs[i].map((j) => `t${j}`).join(', ')}]`] : []), `    cache: { inputs: [in/t${i}.txt], outputs: [out/t${i}.txt] }`, `    run: cat in/t${i}.txt > out/t${i}.txt`);
  }
  fs.writeFileSync(path.join(orch, 'spec.yaml'), spec.join('\n') + '\n');

  const wireit = path.join(dir, 'wireit');
  fs.mkdirSync(path.join(wireit, 'in'), { recursive: true });
  fs.mkdirSync(path.join(wireit, 'out'), { recursive: true });
  const scripts = { all: 'wireit' };
  const config = { all: { dependencies: [] } };
  for (let i = 0; i < n; i++) {
    fs.writeFileSync(path.join(wireit, 'in', `t${i}.txt`), `task ${i}\n`);
    scripts[`t${i}`] = 'wireit';
    config[`t${i}`] = { command: `cat in/t${i}.txt > out/t${i}.txt`, dependencies: needs[i].map((j) => `t${j}`), files: [`in/t${i}.txt`], output: [`out/t${i}.txt`] };
    config.all.dependencies.push(`t${i}`);
  }
  fs.writeFileSync(path.join(wireit, 'package.json'), JSON.stringify({ name: 'bench-wireit', private: true, scripts, wireit: config }, null, 1));

  const turbo = path.join(dir, 'turbo');
  for (let i = 0; i < n; i++) {
    const p = path.join(turbo, 'pkgs', `t${i}`);
    fs.mkdirSync(p, { recursive: true });
    fs.writeFileSync(path.join(p, 'in.txt'), `task ${i}\n`);
    const deps = Object.fromEntries(needs[i].map((j) => [`t${j}`, '*']));
    fs.writeFileSync(path.join(p, 'package.json'), JSON.stringify({ name: `t${i}`, version: '1.0.0', private: true, scripts: { build: 'cat in.txt > out.txt' }, dependencies: deps }));
  }
  const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim();
  fs.writeFileSync(path.join(turbo, 'package.json'), JSON.stringify({ name: 'bench-turbo', private: true, packageManager: `npm@${npmVersion}`, workspaces: ['pkgs/*'] }));
  fs.writeFileSync(path.join(turbo, 'turbo.json'), JSON.stringify({ tasks: { build: { dependsOn: ['^build'], inputs: ['in.txt'], outputs: ['out.txt'] } } }));
  return { orch, wireit, turbo };
}

/** Install wireit and turbo from npm into `dir` (only when asked); returns their bins and versions, or an error. */
function installOthers(dir, log) {
  fs.mkdirSync(dir, { recursive: true });
  log(`  [cache] npm install ${WIREIT} ${TURBO} into ${dir}`);
  const r = spawnSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', WIREIT, TURBO], { encoding: 'utf8' });
  if (r.status !== 0) return { error: `npm install failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}` };
  const version = (name) => JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
  return { wireitBin: path.join(dir, 'node_modules/wireit/bin/wireit.js'), turboBin: path.join(dir, 'node_modules/.bin/turbo'), wireitVersion: version('wireit'), turboVersion: version('turbo') };
}

/** The cache group: rows added through `ctx.addRow`. */
export async function groupCache(tmp, ctx) {
  const { ORCH, runOnce, median, addRow, log, sec, raw, SUITE_NAME, REPS, args, pairedRatio } = ctx;
  const n = SUITE_NAME === 'quick' ? 300 : 1000;
  const reps = REPS ?? (SUITE_NAME === 'quick' ? 2 : 3);
  const chain = path.join(tmp, 'cache-chain');
  writeChain(chain, n);
  const cacheDir = path.join(chain, 'cache');
  const argv = (extra) => [...ORCH, 'run', 'spec.yaml', '--runs-dir', path.join(chain, 'runs'), '--cache-dir', cacheDir, '-q', ...extra];
  const first = await runOnce(argv([]), { cwd: chain, timeoutS: 600 });
  log(`  [cache] chain N=${n} first run: ${first.ok ? sec(first.wall) : `failed: ${first.err}`}`);
  const uncached = [];
  const cached = [];
  for (let rep = 0; rep < reps; rep++) {
    const u = await runOnce(argv(['--no-cache']), { cwd: chain, timeoutS: 600 });
    const c = await runOnce(argv([]), { cwd: chain, timeoutS: 600 });
    uncached.push(u.wall);
    cached.push(c.wall);
    log(`  [cache] chain rep ${rep + 1}/${reps}: --no-cache ${u.ok ? sec(u.wall) : 'FAILED'}, cached ${c.ok ? sec(c.wall) : `FAILED ${c.err}`}`);
  }
  raw.cache = { n, reps, first: first.wall, uncached, cached };
  addRow({
    group: 'cache',
    target: `fully cached rerun of a ${n}-step chain (5 inputs, 1 output each), C=2, vs the same spec with --no-cache`,
    measured: sec(median(cached)),
    reference: `--no-cache ${sec(median(uncached))} (first run ${sec(first.wall)})`,
    bound: '≤ 0.25× uncached',
    ratio: pairedRatio(cached, uncached),
    limit: 0.25,
    error: first.ok ? null : first.err,
  });

  const D = 200;
  const dirs = writeDag(path.join(tmp, 'cache-dag'), D);
  const orchDag = (extra = []) => [...ORCH, 'run', 'spec.yaml', '--runs-dir', path.join(dirs.orch, 'runs'), '--cache-dir', path.join(dirs.orch, 'cache'), '-q', ...extra];
  await runOnce(orchDag(), { cwd: dirs.orch, timeoutS: 300 });
  const orchWalls = [];
  for (let rep = 0; rep < reps + 2; rep++) orchWalls.push((await runOnce(orchDag(), { cwd: dirs.orch, timeoutS: 300 })).wall);
  const o = median(orchWalls);
  raw.cacheDag = { tasks: D, orch: orchWalls };
  if (!args['with-others']) {
    addRow({ group: 'cache', target: `cached no-op of a ${D}-task DAG`, measured: sec(o), reference: 'run with --with-others to time wireit and turbo beside it (installed from npm into the temp folder)', bound: '< wireit, < turbo', ratio: null, limit: 1, kind: 'info' });
    return;
  }
  const others = installOthers(path.join(tmp, 'others'), log);
  if (others.error) {
    addRow({ group: 'cache', target: `cached no-op of a ${D}-task DAG vs wireit and turbo`, measured: sec(o), reference: '', bound: '< 1.00×', ratio: null, limit: 1, error: others.error });
    return;
  }
  // wireit runs as npm would start it (its own checks read these), without npm's own start-up in the figure.
  const wireitEnv = { npm_lifecycle_event: 'all', npm_package_json: path.join(dirs.wireit, 'package.json'), npm_config_user_agent: `npm/10 node/${process.version} linux x64`, WIREIT_LOGGER: 'quiet', WIREIT_PARALLEL: '2', CI: 'false' };
  const wireitArgv = [process.execPath, others.wireitBin];
  const w0 = await runOnce(wireitArgv, { cwd: dirs.wireit, env: wireitEnv, timeoutS: 300 });
  log(`  [cache] wireit first run: ${w0.ok ? sec(w0.wall) : `failed: ${w0.err}`}`);
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--offline'], { cwd: dirs.turbo, encoding: 'utf8' });
  const turboEnv = { TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', DO_NOT_TRACK: '1' };
  const turboArgv = [others.turboBin, 'run', 'build', '--concurrency=2', '--output-logs=none', '--cache-dir=.turbo-cache'];
  const t0 = install.status === 0 ? await runOnce(turboArgv, { cwd: dirs.turbo, env: turboEnv, timeoutS: 300 }) : { ok: false, err: `npm install of the workspace failed: ${install.stderr.trim().split('\n').slice(-1)}` };
  log(`  [cache] turbo first run: ${t0.ok ? sec(t0.wall) : `failed: ${t0.err}`}`);
  const ow = [], ww = [], tw = [];
  for (let rep = 0; rep < reps + 2; rep++) {
    ow.push((await runOnce(orchDag(), { cwd: dirs.orch, timeoutS: 300 })).wall);
    if (w0.ok) ww.push((await runOnce(wireitArgv, { cwd: dirs.wireit, env: wireitEnv, timeoutS: 300 })).wall);
    if (t0.ok) tw.push((await runOnce(turboArgv, { cwd: dirs.turbo, env: turboEnv, timeoutS: 300 })).wall);
  }
  raw.cacheDag = { ...raw.cacheDag, paired: { orch: ow, wireit: ww, turbo: tw }, wireit: others.wireitVersion, turbo: others.turboVersion };
  addRow({ group: 'cache', target: `cached no-op of a ${D}-task DAG vs wireit ${others.wireitVersion} (same DAG, cached)`, measured: sec(median(ow)), reference: `wireit ${sec(median(ww))}`, bound: '< 1.00× wireit', ratio: pairedRatio(ow, ww), limit: 1, strictLess: true, error: w0.ok ? null : w0.err });
  addRow({ group: 'cache', target: `cached no-op of a ${D}-task DAG vs turbo ${others.turboVersion} (same DAG, cached)`, measured: sec(median(ow)), reference: `turbo ${sec(median(tw))}`, bound: '< 1.00× turbo', ratio: pairedRatio(ow, tw), limit: 1, strictLess: true, error: t0.ok ? null : t0.err });
}
