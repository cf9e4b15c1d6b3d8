import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../../src/specfile/validate.js';
import { DEFAULT_SHELL_TIMEOUT_MS, shellTimeoutMs } from '../../../src/steps/shell.js';

describe('a shell step\'s time limit', () => {
  it('is 6 hours unless the step or defaults: sets one; none and 0 lift it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-timeout-unit-'));
    try {
      const file = path.join(dir, 'spec.yaml');
      fs.writeFileSync(file, 'steps:\n  a: { run: x }\n  b: { run: x, timeout: 30s }\n  c: { run: x, timeout: none }\n  d: { run: x, timeout: 0 }\n');
      const limits = Object.fromEntries(parseSpec(file).steps.map((s) => [s.id, shellTimeoutMs(s)]));
      expect(DEFAULT_SHELL_TIMEOUT_MS).toBe(6 * 3_600_000);
      expect(limits).toEqual({ a: DEFAULT_SHELL_TIMEOUT_MS, b: 30_000, c: undefined, d: undefined });
      fs.writeFileSync(file, 'defaults: { timeout: 5m }\nsteps:\n  a: { run: x }\n  b: { run: x, timeout: none }\n');
      expect(parseSpec(file).steps.map(shellTimeoutMs)).toEqual([300_000, undefined]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
