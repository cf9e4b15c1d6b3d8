// Every process of a trial's job: the orchestrator is started with ORCH_FAULT_TRIAL=<marker> in its environment,
// which its launcher, every step and everything a step starts inherit (setsid and nohup keep the environment).
// So a process whose environment holds the marker is the job's, whatever its process group or session; no pid
// file can miss one and no reused pid can be mistaken for one.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Live (not zombie) processes carrying `marker`: [{pid, kind: 'setsid'|'launcher'|'orchestrator'|'step', command}]. */
export function findJobProcesses(marker) {
  return process.platform === 'linux' ? findOnLinux(marker) : findWithPs(marker);
}

function findOnLinux(marker) {
  const needle = Buffer.from(`ORCH_FAULT_TRIAL=${marker}\0`);
  const found = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = fs.readFileSync(`/proc/${name}/environ`);
      if (!environ.includes(needle)) continue;
      if (/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
      const command = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid: Number(name), kind: classify(command, environ.includes(Buffer.from('FAULT_ESCAPE=setsid\0'))), command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Elsewhere (macOS): `ps -E` appends each process's environment to its command. */
function findWithPs(marker) {
  const out = execFileSync('ps', ['-Eww', '-ax', '-o', 'pid=,stat=,command='], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const found = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[2].startsWith('Z') || !m[3].includes(`ORCH_FAULT_TRIAL=${marker}`)) continue;
    found.push({ pid: Number(m[1]), kind: classify(m[3], m[3].includes('FAULT_ESCAPE=setsid')), command: m[3].slice(0, 120) });
  }
  return found;
}

function classify(command, escaped) {
  if (escaped) return 'setsid';
  if (command.includes('launcher.cjs')) return 'launcher';
  if (command.includes('orchestrator.js')) return 'orchestrator';
  return 'step';
}

/** Polls until no process carries `marker` or `graceMs` passed; returns the survivors. */
export async function waitForNoJobProcesses(marker, graceMs) {
  const end = Date.now() + graceMs;
  for (;;) {
    const alive = findJobProcesses(marker);
    if (alive.length === 0 || Date.now() >= end) return alive;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGKILLs every process carrying `marker` (the harness's own cleanup, after survivors were counted). */
export function killJobProcesses(marker) {
  for (const p of findJobProcesses(marker)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
