// Whether a `running` job's process is still there (src/store/runs.ts): a pid now held by a process that started
// after the job did is another one (in a container the orchestrator is pid 1 every time).
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { JobManifest } from '../../../src/store/manifest.js';
import { isWriterAlive } from '../../../src/store/runs.js';

const manifest = (pid: number, startedAt: number) => ({ hostname: os.hostname(), pid, started_at: new Date(startedAt).toISOString() }) as unknown as JobManifest;
const thisProcessStarted = Date.now() - process.uptime() * 1000;

describe('isWriterAlive', () => {
  it('a live pid whose process started before the job did: alive', () => {
    expect(isWriterAlive(manifest(process.pid, thisProcessStarted + 1_000))).toBe(true);
  });

  it.skipIf(process.platform !== 'linux')('a live pid whose process started an hour after the job: another process (on Linux, where /proc says when)', () => {
    expect(isWriterAlive(manifest(process.pid, thisProcessStarted - 3_600_000))).toBe(false);
  });

  it('a pid nobody holds: gone', () => {
    expect(isWriterAlive(manifest(2 ** 22 + 12_345, Date.now()))).toBe(false);
  });
});
