// Which process holds a pid, told apart from a later one that got the same pid (in a container the orchestrator is
// pid 1 every time): on Linux, the boot's id and the process's start in clock ticks since boot, from /proc. Both
// are counted by the kernel, not read from the wall clock, so a clock that is set meanwhile changes neither.
import fs from 'node:fs';

let bootId: string | undefined;

/** `<boot id>/<start ticks>` of process `pid` on Linux; undefined elsewhere, or when /proc cannot tell. */
export function processStartId(pid: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command's `)`: state is field 3, starttime field 22.
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    bootId ??= fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return ticks && /^\d+$/.test(ticks) && bootId ? `${bootId}/${ticks}` : undefined;
  } catch {
    return undefined;
  }
}
