import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Much of the suite waits on the processes it starts (sleeping steps, timeouts, signals), not on a core:
    // two more test files than there are cores keep both cores busy (vitest's default is cores - 1). On 2 cores
    // the cores are then ~94 % busy (user+sys over wall), so more files at once would only crowd them.
    maxWorkers: availableParallelism() + 2,
  },
});
