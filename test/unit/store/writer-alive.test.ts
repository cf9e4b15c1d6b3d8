// Whether a `running` job's process is still there (src/store/runs.ts): a pid now held by another process than the
// one the job recorded (in a container the orchestrator is pid 1 every time) is not the job's.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { JobManifest } from '../../../src/store/manifest.js';
import { isWriterAlive } from '../../../src/store/runs.js';
import { processStartId } from '../../../src/util/process-start.js';

const manifest = (pid: number, pidStart?: string) => ({ hostname: os.hostname(), pid, ...(pidStart !== undefined ? { pid_start: pidStart } : {}) }) as unknown as JobManifest;

describe('isWriterAlive', () => {
  it('a live pid held by the process the job recorded: alive; with no record (an earlier version, not Linux), the pid alone decides', () => {
    expect(isWriterAlive(manifest(process.pid, processStartId(process.pid)))).toBe(true);
    expect(isWriterAlive(manifest(process.pid))).toBe(true);
  });

  it.skipIf(process.platform !== 'linux')('a live pid held by another process than the one recorded: gone (on Linux, where /proc tells)', () => {
    const mine = processStartId(process.pid)!;
    expect(mine).toMatch(/^[0-9a-f-]{36}\/\d+$/);
    const [boot, ticks] = mine.split('/');
    expect(isWriterAlive(manifest(process.pid, `${boot}/${Number(ticks) - 1}`))).toBe(false); // started a tick later
    expect(isWriterAlive(manifest(process.pid, `00000000-0000-0000-0000-000000000000/${ticks}`))).toBe(false); // another boot
  });

  it('a pid nobody holds: gone', () => {
    expect(isWriterAlive(manifest(2 ** 22 + 12_345))).toBe(false);
  });
});
