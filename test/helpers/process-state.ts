// Whether a process a test started (or a step started) is still running, for tests that check nothing outlives
// what should have stopped it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Alive and not a zombie waiting for its reaper (a zombie has stopped running: init reaps it when it will). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') {
    // No /proc (macOS): ps tells a zombie by its state.
    const state = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
    return state !== '' && !state.startsWith('Z');
  }
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
