// A small tmpfs as a trial's runs folder: a full disk at a chosen byte count. Mounting needs root (or sudo
// without a password); where neither is at hand the trial is skipped and counted, unless ORCH_REQUIRE_TMPFS=1.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];

function command(args) {
  const [file, ...rest] = [...asRoot, ...args];
  return exec(file, rest, { timeout: 20_000 });
}

/** Mounts a tmpfs of `sizeKiB` at `dir`; returns undefined, or why it could not. */
export async function mountTmpfs(dir, sizeKiB) {
  if (process.platform !== 'linux') return `tmpfs mounts are a Linux feature (this is ${process.platform})`;
  try {
    await command(['mount', '-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=1777`, 'tmpfs', dir]);
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs (${(e.stderr || e.message).trim().split('\n')[0]}): run as root, or with sudo that asks no password`;
  }
}

/** Unmounts it (lazily when something still holds it open). */
export async function unmountTmpfs(dir) {
  try {
    await command(['umount', dir]);
  } catch {
    await command(['umount', '-l', dir]).catch(() => {});
  }
}
