import { randomBytes } from 'node:crypto';

/** `20261121-214818-123-k3x9q`: sorts by start time; the random tail keeps ids apart within a millisecond. */
export function newJobId(now = new Date()): string {
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}-${p(now.getUTCMilliseconds(), 3)}`;
  return `${stamp}-${randomBytes(4).readUInt32BE().toString(36).padStart(7, '0').slice(0, 5)}`;
}

/** Whether a folder name looks like a job id. */
export function isJobId(name: string): boolean {
  return /^\d{8}-\d{6}-\d{3}-[0-9a-z]{5}$/.test(name);
}
