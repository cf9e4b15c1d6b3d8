import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Most of the suite waits on the processes it starts (sleeping steps, timeouts, signals), not on a core:
    // one more test file than there are cores keeps both cores busy (vitest's default is cores - 1).
    maxWorkers: availableParallelism() + 1,
  },
});
