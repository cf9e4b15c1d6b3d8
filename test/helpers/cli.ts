// CliRig: black-box test rig for the built binary. A fresh temp dir per test, spec files written into it,
// `node <repo>/bin/orchestrator.js …` run there with a scrubbed environment, and readers for the run folder.
// Build first (`node scripts/build.mjs`): the rig runs what a user runs.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';

/** The repository root and its binary. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'bin/orchestrator.js');

/** What one CLI invocation did. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One line of events.jsonl, loosely typed for assertions. */
export interface EventLine {
  ts: string;
  seq: number;
  type: string;
  job_id: string;
  step?: string;
  attempt?: number;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

/** outputs/<step>.json. */
export interface StepOutputFile {
  status: string;
  outputs: Record<string, unknown>;
  text: string;
  exit_code: number | null;
  attempts: number;
  cached: boolean;
  error?: { code: string; message: string } | null;
}

/** manifest.json, loosely typed for assertions. */
export interface ManifestFile {
  schema_version: number;
  job_id: string;
  name: string;
  status: string;
  spec: { path: string; sha256: string };
  started_at: string;
  finished_at: string | null;
  duration_s: number | null;
  concurrency: number;
  steps: Record<string, { status: string; attempts: number; started_at: string | null; finished_at: string | null; duration_s: number | null; exit_code: number | null; cached: boolean; reused: boolean; error: { code: string; message: string } | null }>;
  files: { path: string; sha256: string; size_bytes: number }[];
  [key: string]: unknown;
}

/** A temp dir with a runs folder, a scrubbed environment and helpers to run the CLI and read what it wrote. */
export class CliRig {
  readonly dir: string;
  readonly runsDir: string;

  constructor(prefix = 'orch-cli-') {
    this.dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
    this.runsDir = path.join(this.dir, 'runs');
  }

  /** The response cache's default folder under this rig's environment (XDG_CACHE_HOME/orchestrator). */
  get cacheDir(): string {
    return path.join(this.dir, '.cache', 'orchestrator');
  }

  /**
   * PATH, HOME and XDG_CACHE_HOME (inside the temp dir: no test writes to the real user cache), NO_COLOR and
   * ORCH_RUNS_DIR: no provider keys, nothing else from the outer shell.
   */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir, XDG_CACHE_HOME: path.join(this.dir, '.cache'), NO_COLOR: '1', ORCH_RUNS_DIR: this.runsDir, ...extra };
  }

  /** Write a file under the temp dir (folders made as needed); returns its name relative to the dir. */
  write(name: string, text: string): string {
    const file = path.join(this.dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return name;
  }

  /** Absolute path of a name inside the temp dir. */
  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  /** Whether a file exists inside the temp dir. */
  exists(name: string): boolean {
    return fs.existsSync(path.join(this.dir, name));
  }

  /** Run `orchestrator …args` in the temp dir and wait for it (blocking); `input` is written to its stdin. */
  run(args: string[], o: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): CliResult {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: this.dir, env: this.env(o.env), encoding: 'utf8', timeout: o.timeoutMs ?? 60_000, input: o.input });
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Run `orchestrator …args` without blocking the test's event loop (for servers or several runs at once). */
  runAsync(args: string[], o: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: this.dir, env: this.env(o.env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Job ids in the runs folder, oldest first. */
  jobs(): string[] {
    return fs.existsSync(this.runsDir) ? fs.readdirSync(this.runsDir).filter((n) => /^\d{8}-\d{6}-\d{3}-/.test(n)).sort() : [];
  }

  /** The newest job id; throws when there is none. */
  latest(): string {
    const job = this.jobs().at(-1);
    if (!job) throw new Error(`no run folder in ${this.runsDir}`);
    return job;
  }

  /** Absolute path inside a job's run folder (the newest by default). */
  runPath(rel = '', job = this.latest()): string {
    return path.join(this.runsDir, job, rel);
  }

  manifest(job = this.latest()): ManifestFile {
    return JSON.parse(fs.readFileSync(this.runPath('manifest.json', job), 'utf8')) as ManifestFile;
  }

  events(job = this.latest()): EventLine[] {
    return fs
      .readFileSync(this.runPath('events.jsonl', job), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as EventLine);
  }

  /** outputs/<step>.json of a job. */
  output(step: string, job = this.latest()): StepOutputFile {
    return JSON.parse(fs.readFileSync(this.runPath(`outputs/${step}.json`, job), 'utf8')) as StepOutputFile;
  }

  /** logs/<step>.log of a job. */
  log(step: string, job = this.latest()): string {
    return fs.readFileSync(this.runPath(`logs/${step}.log`, job), 'utf8');
  }

  /** Every regular file under the temp dir (relative paths, sorted), for "nothing was written" checks. */
  allFiles(under = ''): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, e.name);
        if (e.isDirectory()) walk(full);
        else out.push(path.relative(this.dir, full));
      }
    };
    const start = path.join(this.dir, under);
    if (fs.existsSync(start)) walk(start);
    return out.sort();
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SHA-256 of a file, hex. */
export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Fails loudly when the binary was not built: black-box tests need `node scripts/build.mjs` first. */
export function assertBuilt(): void {
  if (!fs.existsSync(path.join(REPO, 'dist/cli/main.cjs'))) throw new Error(`${REPO}/dist is missing: run \`node scripts/build.mjs\` before the black-box tests`);
}

/** A fresh CliRig for each test of the calling file, removed afterwards. */
export function useCliRig(prefix?: string): () => CliRig {
  let rig: CliRig | undefined;
  beforeEach(() => {
    assertBuilt();
    rig = new CliRig(prefix);
  });
  afterEach(() => {
    rig?.cleanup();
    rig = undefined;
  });
  return () => {
    if (!rig) throw new Error('useCliRig(): only inside a test');
    return rig;
  };
}

/**
 * How step processes can start in this build: with the posix_spawn helper where `npm run build` could
 * compile it (a C compiler at hand), and always with Node's spawn. Tests of both run only the first where
 * it was built, and say so once when it was not.
 */
export function spawnersBuilt(): ('native' | 'node')[] {
  const dir = path.join(REPO, 'dist/native');
  const built = fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.node'));
  if (!built && !warnedNoHelper) {
    warnedNoHelper = true;
    process.stderr.write('skipping the posix_spawn helper\'s runs of the process tests: this build has no helper (no C compiler at `npm run build`); Node\'s spawn is tested\n');
  }
  return built ? ['native', 'node'] : ['node'];
}
let warnedNoHelper = false;
