// Real `orchestrator worker` processes for the workers' black-box tests, started in a rig's temp dir (their
// checkout) against a test redis-server, with short lock and stall timings so faults show within seconds.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, type CliRig } from './cli.js';

/**
 * Short timings for tests (see docs/spec.md, "Workers"): a lost worker is noticed within LOCK + CHECK. The lock is
 * renewed every LOCK / 2: a live worker paused longer than that (a loaded machine) would be taken for lost, and its
 * step run twice; at 1.5 s a pause of 1.2 s did it.
 */
export const FAST_TIMINGS = { ORCH_WORKER_LOCK_MS: '3000', ORCH_WORKER_STALLED_MS: '1000', ORCH_WORKER_CHECK_MS: '250' };

/** A running worker process and what it printed. */
export interface WorkerProc {
  name: string;
  child: ChildProcess;
  output(): string;
  /** Resolves when it has exited. */
  exited: Promise<void>;
  /** Its TMPDIR, where it makes its scratch folder: removed by stopWorkers (a worker killed -9 cannot remove it). */
  tmp: string;
}

/** Start `orchestrator worker` in `dir` (default: the rig's dir) and wait until it has taken its place. */
export async function startWorker(rig: CliRig, o: { redisUrl: string; name: string; concurrency?: number; tags?: string[]; dir?: string; env?: Record<string, string> }): Promise<WorkerProc> {
  const args = [BIN, 'worker', '--redis', o.redisUrl, '--name', o.name, '--concurrency', String(o.concurrency ?? 2)];
  if (o.tags) args.push('--tags', o.tags.join(','));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-test-worker-'));
  const child = spawn(process.execPath, args, { cwd: o.dir ?? rig.dir, env: rig.env({ ...FAST_TIMINGS, TMPDIR: tmp, ...o.env }), stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor(() => out.includes('took its place') || child.exitCode !== null, 30_000, () => `worker ${o.name} did not start: ${out}`);
    if (child.exitCode !== null) throw new Error(`worker ${o.name} exited: ${out}`);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { name: o.name, child, output: () => out, exited, tmp };
}

/** Stop workers still running (SIGKILL: a test's leftovers), wait for them, and remove their scratch folders. */
export async function stopWorkers(workers: WorkerProc[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  for (const w of workers) fs.rmSync(w.tmp, { recursive: true, force: true, maxRetries: 3 });
}

/** Poll `ok` every 25 ms until it holds; throws `why()` after `timeoutMs`. */
export async function waitFor(ok: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > timeoutMs) throw new Error(why());
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The names after `prefix.` of files in `dir` (`taken.w1` → `w1`). */
export function markers(dir: string, prefix: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.startsWith(`${prefix}.`)).map((f) => f.slice(prefix.length + 1)).sort();
}

/** Where a rig's events.jsonl is, for a run that is still going. */
export function eventsOf(rig: CliRig): { type: string; step?: string; attempt?: number; worker?: string; error?: { code: string; message: string }; ts: string }[] {
  if (!fs.existsSync(rig.runsDir)) return [];
  const jobs = fs.readdirSync(rig.runsDir).filter((j) => !j.startsWith('.')).sort();
  const file = jobs.length ? path.join(rig.runsDir, jobs[jobs.length - 1]!, 'events.jsonl') : undefined;
  if (!file || !fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() && l.endsWith('}')).map((l) => JSON.parse(l) as never);
}
