// Environment variables a test file sets in its own process: put back afterwards, since test files share their
// worker's process (vitest.config.ts: isolate: false) and the next file must not find them.
import { afterAll, beforeAll } from 'vitest';

/** Set `vars` for the tests of the file or `describe` this is called in, and put back what was there after them. */
export function useEnv(vars: Record<string, string>): void {
  const saved = new Map<string, string | undefined>();
  beforeAll(() => {
    for (const [k, v] of Object.entries(vars)) {
      saved.set(k, process.env[k]);
      process.env[k] = v;
    }
  });
  afterAll(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}
