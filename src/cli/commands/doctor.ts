import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { OrchestratorError } from '../../errors.js';
import { cacheDirOf, oldCacheNotice } from '../../store/cache.js';
import { onPath } from '../../process/direct.js';
import { FORKED_LAUNCHER_MIN_STEPS, launcherChoice } from '../../process/launcher.js';
import { chooseSpawner } from '../../process/spawner.js';
import { runsDirOf } from '../options.js';
import { remoteCacheChecks } from './doctor-remote.js';
import { colorsFor } from '../render/color.js';
import { isFolder, notAFolderReason } from '../../util/make-folder.js';

/** One line of `doctor`: what this installation uses, and whether that is a problem. */
export interface DoctorCheck {
  name: string;
  /** `ok`: fine; `info`: optional and absent, or a setting; `problem`: jobs cannot run as they should. */
  state: 'ok' | 'info' | 'problem';
  value: string;
  detail?: string;
}

/** The oldest Node major we support (package.json's engines). */
const MIN_NODE_MAJOR = 20;
/** Provider SDKs: loaded only by specs with LLM steps of their type. */
const PROVIDER_SDKS: [type: string, pkg: string][] = [
  ['openai, mlx', 'openai'],
  ['anthropic', '@anthropic-ai/sdk'],
  ['ollama', 'ollama'],
];

/** `orchestrator doctor`: what this installation uses and why; 1 when something stops jobs from running. */
export async function doctorCommand(version: string, opts: { json?: boolean; runsDir?: string; cacheDir?: string; remoteCache?: string; workers?: string; bucket?: string }): Promise<number> {
  const checks = [...diagnose(opts), ...(await remoteCacheChecks(opts)), ...(await remoteChecks(opts))];
  const ok = !checks.some((c) => c.state === 'problem');
  if (opts.json) {
    const spawner = checks.find((k) => k.name === 'spawner')!;
    process.stdout.write(`${JSON.stringify({ ok, version, spawner: spawner.value, checks }, null, 2)}\n`);
    return ok ? 0 : 1;
  }
  const c = colorsFor(process.stdout);
  const mark = { ok: c.green('✓'), info: c.dim('·'), problem: c.red('✗') };
  const width = Math.max(...checks.map((k) => k.name.length));
  const lines = [`orchestrator ${version}`];
  for (const k of checks) {
    lines.push(`  ${mark[k.state]} ${k.name.padEnd(width)}  ${k.value}`);
    if (k.detail) lines.push(`    ${' '.repeat(width)}  ${c.dim(k.detail)}`);
  }
  lines.push(ok ? 'Everything a job needs is here.' : 'Jobs cannot run as they should here: see the lines marked ✗.');
  process.stdout.write(`${lines.join('\n')}\n`);
  return ok ? 0 : 1;
}

/** The Redis of workers and the bucket, when given (or in ORCH_WORKERS, ORCH_BUCKET); their clients load only then. */
async function remoteChecks(opts: { workers?: string; bucket?: string }, env: NodeJS.ProcessEnv = process.env): Promise<DoctorCheck[]> {
  const redisUrl = opts.workers ?? env.ORCH_WORKERS;
  const bucketUrl = opts.bucket ?? env.ORCH_BUCKET;
  if (!redisUrl && !bucketUrl) return [];
  const { probeBucket, probeRedis } = await import('../../workers/probe.js');
  const checks: DoctorCheck[] = [];
  const add = (name: string, p: { ok: boolean; value: string; detail?: string }) => checks.push({ name, state: p.ok ? 'ok' : 'problem', value: p.value, ...(p.detail ? { detail: p.detail } : {}) });
  if (redisUrl) add('workers redis', await probeRedis(redisUrl));
  if (bucketUrl) add('workers bucket', await probeBucket(bucketUrl));
  return checks;
}

/** Every check, in the order they print. */
export function diagnose(opts: { runsDir?: string; cacheDir?: string }, env: NodeJS.ProcessEnv = process.env): DoctorCheck[] {
  const major = Number(process.versions.node.split('.')[0]);
  const checks: DoctorCheck[] = [
    major >= MIN_NODE_MAJOR
      ? { name: 'node', state: 'ok', value: `v${process.versions.node} (${process.execPath})` }
      : { name: 'node', state: 'problem', value: `v${process.versions.node}`, detail: `orchestrator needs Node.js ${MIN_NODE_MAJOR} or newer` },
    platformCheck(),
    bashCheck(env),
    spawnerCheck(env),
    launcherCheck(env),
    folderCheck('runs dir', path.resolve(runsDirOf(opts))),
    cacheCheck(opts, env),
    ...PROVIDER_SDKS.map(([types, pkg]) => sdkCheck(types, pkg)),
    chromiumCheck(env),
  ];
  return checks;
}

function platformCheck(): DoctorCheck {
  const value = `${process.platform} ${process.arch}${process.platform === 'linux' ? ` (${libc()})` : ''}`;
  if (process.platform === 'win32') return { name: 'platform', state: 'problem', value, detail: 'orchestrator needs bash and a POSIX system: run it inside WSL' };
  return { name: 'platform', state: 'ok', value };
}

function libc(): string {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'musl or another libc';
}

function bashCheck(env: NodeJS.ProcessEnv): DoctorCheck {
  const bash = onPath('bash', env.PATH ?? '');
  if (bash === null) return { name: 'bash', state: 'problem', value: 'not found on PATH', detail: 'shell steps run with bash -e -o pipefail -c: install bash' };
  const out = spawnSync(bash, ['--version'], { encoding: 'utf8', timeout: 5000 });
  return { name: 'bash', state: 'ok', value: `${bash}${out.stdout ? ` (${out.stdout.split('\n')[0]})` : ''}` };
}

function spawnerCheck(env: NodeJS.ProcessEnv): DoctorCheck {
  try {
    const s = chooseSpawner(env);
    return { name: 'spawner', state: 'ok', value: s.kind, ...(s.reason ? { detail: `why not the posix_spawn helper: ${s.reason}` } : {}) };
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return { name: 'spawner', state: 'problem', value: 'none', detail: e.message };
  }
}

function launcherCheck(env: NodeJS.ProcessEnv): DoctorCheck {
  let forced;
  try {
    forced = launcherChoice(env);
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return { name: 'launcher', state: 'problem', value: `$ORCH_LAUNCHER=${env.ORCH_LAUNCHER}`, detail: e.message };
  }
  const value = forced
    ? `$ORCH_LAUNCHER=${forced}: every job starts its steps ${forced === 'local' ? 'from its own process' : 'from a launcher process'}`
    : `jobs of ${FORKED_LAUNCHER_MIN_STEPS} or more shell steps start them from a launcher process`;
  return { name: 'launcher', state: 'info', value };
}

/**
 * A folder the orchestrator writes, checked for what a run needs: a writable folder; or, when it is missing, a
 * nearest existing folder above it that is writable and in which a folder can be made (tried, and removed: a file
 * system such as /proc refuses one although access() says yes).
 */
function folderCheck(name: string, dir: string): DoctorCheck {
  const problem = (detail: string): DoctorCheck => ({ name, state: 'problem', value: dir, detail });
  let at = dir;
  while (!isThere(at) && path.dirname(at) !== at) at = path.dirname(at);
  const made = at === dir ? '' : 'cannot be made: ';
  if (!isFolder(at)) return problem(made + notAFolderReason(at));
  try {
    fs.accessSync(at, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    return problem(`${made}${at === dir ? 'not writable' : `${at} is not writable`}`);
  }
  if (at === dir) return { name, state: 'ok', value: dir };
  const probe = path.join(at, `.orch-doctor-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
  } catch (e) {
    return problem(`cannot be made: ${at} does not let folders be made in it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { name, state: 'ok', value: dir, detail: 'made at the first run' };
}

/** Whether anything (a folder, a file, a link to nothing) is at `at`; not when a file stands above it (ENOTDIR). */
function isThere(at: string): boolean {
  try {
    fs.lstatSync(at);
    return true;
  } catch {
    return false;
  }
}

/** The response cache: the user's cache folder unless --cache-dir or $ORCH_CACHE_DIR says otherwise. */
function cacheCheck(opts: { runsDir?: string; cacheDir?: string }, env: NodeJS.ProcessEnv): DoctorCheck {
  const dir = cacheDirOf({ cacheDir: opts.cacheDir }, env);
  const check = folderCheck('cache dir', dir);
  const old = oldCacheNotice(runsDirOf(opts), dir);
  const from = opts.cacheDir ? '--cache-dir' : env.ORCH_CACHE_DIR ? '$ORCH_CACHE_DIR' : "the user's cache folder";
  // What stops runs comes first; the old cache is only a notice.
  const detail = check.state === 'problem' ? check.detail : (old ?? check.detail);
  return { ...check, value: `${dir} (${from})`, ...(detail ? { detail } : {}) };
}

function sdkCheck(types: string, pkg: string): DoctorCheck {
  const name = `sdk ${pkg}`;
  try {
    const require = createRequire(__filename);
    const entry = require.resolve(pkg);
    return { name, state: 'ok', value: `${versionOf(entry, pkg) ?? 'version unknown'} (for provider type ${types})` };
  } catch {
    return { name, state: 'info', value: 'not installed', detail: `needed only by specs with ${types} prompt steps` };
  }
}

/** The version in the package.json above `entry` that names `pkg`. */
function versionOf(entry: string, pkg: string): string | undefined {
  for (let dir = path.dirname(entry); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (meta.name === pkg) return meta.version;
  }
  return undefined;
}

function chromiumCheck(env: NodeJS.ProcessEnv): DoctorCheck {
  const found = env.CHROMIUM ?? ['chromium', 'chromium-browser', 'google-chrome'].map((n) => onPath(n, env.PATH ?? '')).find((p) => p !== null);
  const use = 'used only for screenshots of report.html and the browser tests, not to run jobs';
  return found ? { name: 'chromium', state: 'ok', value: found, detail: use } : { name: 'chromium', state: 'info', value: 'not found', detail: use };
}
