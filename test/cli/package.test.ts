// The published package: `npm pack` gives a tarball that installs with `npm i -g` on a machine without a C
// compiler and runs a spec from any folder, with the posix_spawn helper where the tarball carries one for
// this platform and Node's own spawn where it does not.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';

let tmp: string;
let tarball: string;
let prefix: string;
/** A PATH with everything of ours but compilers, make and python: what a slim image or a bare Mac has. */
let bareBin: string;

const COMPILERS = /^(cc|c\+\+|gcc.*|g\+\+.*|clang.*|cpp.*|.*-gcc.*|.*-g\+\+.*|make|gmake|python.*|node-gyp)$/;

function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bareBin, NO_COLOR: '1', ...extra };
  for (const k of ['ORCH_RUNS_DIR', 'ORCH_CACHE_DIR', 'ORCH_SPAWNER', 'ORCH_LAUNCHER', 'npm_config_prefix']) delete env[k];
  return env;
}

function sh(cmd: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: o.cwd, env: o.env ?? bareEnv(), encoding: 'utf8', timeout: 180_000 });
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-package-'));
  bareBin = path.join(tmp, 'bin');
  fs.mkdirSync(bareBin);
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!path.isAbsolute(dir) || !fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      if (COMPILERS.test(name) || fs.existsSync(path.join(bareBin, name))) continue;
      fs.symlinkSync(path.join(dir, name), path.join(bareBin, name));
    }
  }
  // `npm test` has just built dist/: pack it as `npm publish` would, without building again.
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: REPO, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  const [meta] = JSON.parse(pack.stdout) as { filename: string }[];
  tarball = path.join(tmp, meta!.filename);
  prefix = path.join(tmp, 'prefix');
  const install = sh('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: tmp });
  expect(install.status, install.stderr).toBe(0);
}, 240_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the package as npm pack makes it', () => {
  it('carries the built CLI, its launcher, the library with its declarations and the license; no sources, tests or source maps', () => {
    const dry = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: REPO, encoding: 'utf8' });
    const files = (JSON.parse(dry.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/orchestrator.js', 'bin/package.json', 'dist/cli/main.cjs', 'dist/cli/program.cjs', 'dist/launcher.cjs', 'dist/ui/server.cjs', 'dist/ui/app.js', 'dist/lib/index.cjs', 'dist/lib/index.mjs', 'dist/types/index.d.ts', 'package.json', 'README.md', 'LICENSE']));
    expect(files.filter((f) => /^(src|test|native|scripts|bench|docs|examples)\/|\.map$|(?<!\.d)\.ts$/.test(f))).toEqual([]);
  });

  it('installs with npm i -g where there is no compiler, and runs a spec from any folder', () => {
    expect(spawnSync('cc', ['--version'], { env: bareEnv() }).error).toMatchObject({ code: 'ENOENT' });
    const work = fs.mkdtempSync(path.join(tmp, 'work-'));
    fs.writeFileSync(path.join(work, 'spec.yaml'), 'steps:\n  hello:\n    run: echo "v=from-$ORCH_STEP" >> "$ORCH_OUTPUT"\n  after:\n    needs: [hello]\n    run: echo "${{ steps.hello.outputs.v }}"\n');
    const run = sh(path.join(prefix, 'bin/orchestrator'), ['run', 'spec.yaml', '--json'], { cwd: work });
    expect(run.status, run.stderr).toBe(0);
    const manifest = JSON.parse(run.stdout) as { status: string; job_id: string };
    expect(manifest.status).toBe('succeeded');
    expect(fs.readFileSync(path.join(work, 'runs', manifest.job_id, 'logs/after.log'), 'utf8')).toBe('from-hello\n');
  });

  it('uses the helper the tarball carries for this platform, else Node spawn, and doctor says which and why', () => {
    const installed = path.join(prefix, 'lib/node_modules/orchestrator-dag');
    const helpers = path.join(installed, 'dist/native');
    const carried = fs.existsSync(helpers) ? fs.readdirSync(helpers) : [];
    const doctor = () => {
      const r = sh(path.join(prefix, 'bin/orchestrator'), ['doctor', '--json'], { cwd: tmp });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { spawner: string; checks: { name: string; detail?: string }[] };
    };
    if (carried.length > 0) expect(doctor().spawner).toBe('posix_spawn helper');
    // A platform the tarball has no helper for: the same job runs through Node's spawn, and doctor says why.
    fs.rmSync(helpers, { recursive: true, force: true });
    const report = doctor();
    expect(report.spawner).toBe('node child_process');
    expect(report.checks.find((c) => c.name === 'spawner')!.detail).toMatch(/no posix_spawn helper for/);
    const work = fs.mkdtempSync(path.join(tmp, 'work-'));
    fs.writeFileSync(path.join(work, 'spec.yaml'), 'steps:\n  a:\n    run: echo plain\n');
    const run = sh(path.join(prefix, 'bin/orchestrator'), ['run', 'spec.yaml'], { cwd: work });
    expect(run.status, run.stderr).toBe(0);
  });

  it('is a library too: a plain ES module imports run and validate from the installed package, with its types', () => {
    const installed = path.join(prefix, 'lib/node_modules/orchestrator-dag');
    const work = fs.mkdtempSync(path.join(tmp, 'lib-'));
    fs.mkdirSync(path.join(work, 'node_modules'));
    fs.symlinkSync(installed, path.join(work, 'node_modules/orchestrator-dag'));
    fs.writeFileSync(path.join(work, 'spec.yaml'), 'vars: { who: nobody }\nsteps:\n  hello:\n    run: echo "hello ${{ vars.who }}"\n  wait:\n    needs: [hello]\n    run: sleep 30\n');
    fs.writeFileSync(
      path.join(work, 'main.mjs'),
      `import { run, validate, OrchestratorError } from 'orchestrator-dag';
const bad = await validate({ steps: { a: { run: 'true' }, b: { needs: ['nope'], run: 'true' } } });
console.log(JSON.stringify({ bad }));
const events = [];
const controller = new AbortController();
const result = await run('spec.yaml', {
  runsDir: 'lib-runs', vars: { who: 'library' }, signal: controller.signal,
  onEvent: (e) => { events.push(e.type + (e.step ? ':' + e.step : '')); if (e.type === 'step.started' && e.step === 'wait') controller.abort(); },
});
console.log(JSON.stringify({ status: result.status, runDir: result.runDir, steps: result.manifest.steps.hello.status, events }));
try { await run('missing.yaml'); } catch (e) { console.log(JSON.stringify({ rejected: e instanceof OrchestratorError, diagnostics: e.diagnostics })); }
const teamSpec = { workers: { redis: 'redis://127.0.0.1:1' }, steps: { a: { run: 'true' } } };
try { await run(teamSpec, { runsDir: 'lib-runs' }); } catch (e) { console.log(JSON.stringify({ workers: e.message })); }
console.log(JSON.stringify({ local: (await run(teamSpec, { runsDir: 'lib-runs', local: true })).status }));
`,
    );
    const r = sh(process.execPath, ['main.mjs'], { cwd: work });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [bad, ran, rejected, workers, local] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // The spec's workers: would take its shell steps, but a spec object is no file a worker's checkout has; local: true keeps them here.
    expect(workers).toEqual({ workers: "a spec given as an object cannot run on workers (the spec's `workers:`): each worker runs the spec from its own checkout, so it must be a file of the project; write it there and run that file, or run here with local: true" });
    expect(local).toEqual({ local: 'succeeded' });
    expect(bad.bad).toEqual({ ok: false, problems: [{ code: 'spec-invalid', message: 'step "b" needs unknown step "nope"', file: '<spec object>', line: 8, col: 9 }] });
    expect(ran).toMatchObject({ status: 'cancelled', steps: 'succeeded' });
    expect(ran.events).toEqual(['job.started', 'step.started:hello', 'step.succeeded:hello', 'step.started:wait', 'step.cancelled:wait', 'job.finished']);
    expect(fs.readFileSync(path.join(ran.runDir, 'logs/hello.log'), 'utf8')).toBe('hello library\n');
    expect(rejected).toEqual({ rejected: true, diagnostics: [{ code: 'spec-read', message: 'no such spec file', file: 'missing.yaml' }] });
    // The declarations ship with it: a TypeScript program that uses the API wrongly does not compile.
    fs.writeFileSync(path.join(work, 'use.ts'), "import { run, type RunResult } from 'orchestrator-dag';\nconst r: Promise<RunResult> = run('spec.yaml', { concurrency: 2 });\nvoid r;\nrun('spec.yaml', { concurency: 2 });\n");
    const tsc = sh(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--typeRoots', path.join(REPO, 'node_modules/@types'), '--types', 'node', 'use.ts'], { cwd: work });
    expect(tsc.stdout).toMatch(/use\.ts\(4,.*'concurency' does not exist in type 'RunOptions'/);
    expect(tsc.stdout.trim().split('\n')).toHaveLength(1);
  });
});
