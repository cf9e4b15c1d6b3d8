// One trial: write its spec into a fresh folder, `orchestrator run` it under its fault (phase.mjs), perhaps
// `resume` the job under a second fault, then check every run folder, the readers and the disk for the secret,
// and clean up whatever is left.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkReaders, checkRunFolder, checkSecretInText, checkSecretOnDisk, checkUtf8Log, firstLine, hasStack, listJobs, runCli } from './checks.mjs';
import { runPhase, stackLine } from './phase.mjs';
import { killJobProcesses, waitForNoJobProcesses } from './processes.mjs';
import { isUtf8Body } from './scenario.mjs';
import { mountTmpfs, unmountTmpfs } from './tmpfs.mjs';

/**
 * Runs trial `plan` (scenario.mjs) with the binary `bin`; returns {plan, violations: [{kind, detail}],
 * skipped?: reason, exit, elapsedMs, delivered, dir}.
 */
export async function runTrial({ plan, bin, keep, requireTmpfs }) {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `orch-fault-${plan.seed}-${plan.trial}-`)));
  const runsDir = path.join(dir, 'runs');
  const marker = `${plan.seed}-${plan.trial}-${process.pid}`;
  fs.writeFileSync(path.join(dir, 'spec.yaml'), plan.spec);
  fs.mkdirSync(runsDir);
  let mounted = false;
  try {
    if (plan.fault.kind === 'disk-full') {
      const why = await mountTmpfs(runsDir, plan.fault.sizeKiB);
      if (why && requireTmpfs) return { plan, violations: [{ kind: 'tmpfs-unavailable', detail: `${why} (ORCH_REQUIRE_TMPFS=1)` }] };
      if (why) return { plan, violations: [], skipped: why };
      mounted = true;
    }
    return { ...(await runAndCheck({ plan, bin, dir, runsDir, marker })), dir };
  } finally {
    killJobProcesses(marker);
    // SIGKILL is not instant: a process that is being killed may still make a file, so the folder goes once they have.
    await waitForNoJobProcesses(marker, 5_000);
    // A kept trial's tmpfs is copied out first: unmounting it takes its files along.
    if (mounted && keep) fs.cpSync(runsDir, path.join(dir, 'runs-from-tmpfs'), { recursive: true });
    if (mounted) await unmountTmpfs(runsDir);
    if (!keep) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}

async function runAndCheck({ plan, bin, dir, runsDir, marker }) {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    XDG_CACHE_HOME: path.join(dir, '.cache'),
    NO_COLOR: '1',
    FAULT_SECRET: plan.secret,
    FAULT_DIR: dir,
    ORCH_FAULT_TRIAL: marker,
    ...plan.env,
  };
  const junit = path.join(dir, 'junit.xml');
  const common = { plan, bin, dir, env, runsDir, marker };
  const phases = [await runPhase({ ...common, name: 'run', fault: plan.fault, args: ['run', 'spec.yaml', '--runs-dir', runsDir, ...(plan.junit ? ['--junit', junit] : [])] })];
  const first = phases[0].jobs[0];
  // A resume of the job, where it was left as the first command ended: on the same (perhaps full) disk.
  if (plan.resume && first && !phases[0].r.timedOut) {
    const fault = plan.fault.kind === 'disk-full' ? { ...plan.resume, kind: 'disk-full' } : plan.resume;
    phases.push(await runPhase({ ...common, name: 'resume', fault, args: ['resume', first, '--runs-dir', runsDir] }));
  }
  const violations = phases.flatMap((p) => p.violations);
  for (const phase of phases) {
    for (const job of phase.jobs) {
      const folder = checkRunFolder({ runDir: path.join(runsDir, job), tornLastLineAllowed: phase.killed, filesMayBeGone: plan.fault.kind === 'runs-deleted' });
      violations.push(...folder.found);
      // (Died of a signal: already a killed-by-signal violation, which is why nothing was recorded.)
      if (!phase.killed && !phase.r.signal && plan.fault.kind !== 'runs-deleted') violations.push(...checkRecordedEnd({ phase, runsDir, job, manifest: folder.manifest, plan }));
      if (folder.manifest && plan.fault.kind !== 'disk-full') violations.push(...checkUtf8Logs({ plan, runDir: path.join(runsDir, job), manifest: folder.manifest }));
    }
    // Ended by itself with no run folder: only a full disk (or a deleted runs folder) may explain that, or a
    // resume cancelled while it checked the old job's files, which starts no new job (SPEC §6) and says so.
    const cancelledCheck = phase.name === 'resume' && phase.r.code === 130 && /no new job was started/.test(phase.r.stderr);
    // or resume of a job killed before it saved its spec, which has nothing to resume and says so (exit 2).
    const neverStarted = phase.name === 'resume' && phase.r.code === 2 && /has no copy of its spec .*nothing to resume/.test(phase.r.stderr);
    if (!phase.killed && phase.jobs.length === 0 && !phase.r.signal && !cancelledCheck && !neverStarted && !explainsDisk(phase, plan) && plan.fault.kind !== 'runs-deleted') {
      violations.push({ kind: 'unrecorded-end', detail: `${phase.note}: exit ${phase.r.code} and no run folder; stderr: ${firstLine(phase.r.stderr) || '(empty)'}` });
    }
  }
  const jobs = listJobs(runsDir);
  const readers = await checkReaders({ bin, cwd: dir, env, runsDir, job: jobs.at(-1) });
  violations.push(...readers.found, ...checkSecretInText({ texts: readers.texts, secret: plan.secret, where: 'show/list-runs output' }));
  if (plan.report && jobs[0]) violations.push(...(await checkReport({ bin, dir, env, runsDir, job: jobs[0] })));
  violations.push(...(await checkSecretOnDisk({ roots: [runsDir, path.join(dir, '.cache'), junit], secret: plan.secret })));
  const run = phases[0];
  return { plan, violations, exit: phases.map((p) => p.r.signal ?? p.r.code).join('/'), elapsedMs: run.elapsedMs, delivered: run.delivered, phases: phases.length };
}

function explainsDisk(phase, plan) {
  return plan.fault.kind === 'disk-full' && /disk.full|no space|ENOSPC/i.test(phase.r.stderr) && !hasStack(phase.r.stderr);
}

/**
 * A command that ended by itself recorded its job's end (a finished manifest, `job.finished` last in the
 * journal). On a full disk that may be impossible: then its last words on stderr must say so.
 */
function checkRecordedEnd({ phase, runsDir, job, manifest, plan }) {
  let lastEvent;
  try {
    lastEvent = JSON.parse(fs.readFileSync(path.join(runsDir, job, 'events.jsonl'), 'utf8').trimEnd().split('\n').at(-1)).type;
  } catch {
    lastEvent = undefined;
  }
  if (manifest && ['succeeded', 'failed', 'cancelled'].includes(manifest.status) && lastEvent === 'job.finished') return [];
  if (explainsDisk(phase, plan)) return [];
  return [{ kind: 'unrecorded-end', detail: `${phase.note}: exit ${phase.r.code ?? phase.r.signal} with manifest ${manifest?.status ?? 'missing/unreadable'}, last event ${lastEvent ?? 'none'}; stderr: ${firstLine(phase.r.stderr) || '(empty)'}` }];
}

function checkUtf8Logs({ plan, runDir, manifest }) {
  return plan.steps.filter((s) => isUtf8Body(s.body) && manifest.steps?.[s.id]?.status === 'succeeded' && !manifest.steps[s.id].reused).flatMap((s) => checkUtf8Log({ file: path.join(runDir, 'logs', `${s.id}.log`) }));
}

async function checkReport({ bin, dir, env, runsDir, job }) {
  const r = await runCli({ bin, args: ['report', job, '--json', '--runs-dir', runsDir], cwd: dir, env, timeoutMs: 30_000 }).done;
  const found = [];
  if (r.timedOut) found.push({ kind: 'report-hang', detail: `report ${job} still running after 30 s` });
  else if (![0, 1, 2].includes(r.code)) found.push({ kind: 'report-failed', detail: `report exit ${r.code ?? r.signal}: ${firstLine(r.stderr)}` });
  if (hasStack(r.stderr) || hasStack(r.stdout)) found.push({ kind: 'stack-trace', detail: `report printed a stack: ${stackLine(r.stderr + r.stdout)}` });
  return found;
}
