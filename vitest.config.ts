import { availableParallelism } from 'node:os';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The longest test files (tens of seconds each), started first so that none of them starts last. With no timing
 * cache (a fresh clone, CI) vitest starts the largest files first, and the two fault suites are three-line files:
 * they started last and the suite took ~260 s instead of ~170 s.
 */
const LONGEST_FIRST = ['test/cli/faults.test.ts', 'test/cli/faults-launcher.test.ts', 'test/cli/workers.test.ts', 'test/cli/damaged-runs.test.ts', 'test/cli/llm.test.ts', 'test/cli/step-cache.test.ts', 'test/cli/robustness.test.ts', 'test/cli/remote-cache.test.ts'];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(path.relative(f.project.config.root, f.moduleId).split(path.sep).join('/'));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    const rest = await super.sort(files.filter((f) => rank(f) === LONGEST_FIRST.length));
    return [...files.filter((f) => rank(f) < LONGEST_FIRST.length).sort((a, b) => rank(a) - rank(b)), ...rest];
  }
}

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Much of the suite waits on the processes it starts (sleeping steps, timeouts, signals), not on a core:
    // two more test files than there are cores keep both cores busy (vitest's default is cores - 1). On 2 cores
    // the cores are then ~94 % busy (user+sys over wall), so more files at once would only crowd them.
    maxWorkers: availableParallelism() + 2,
    sequence: { sequencer: LongestFirst },
    // Test files share their worker's process and modules from one file to the next (isolate: false): each file
    // otherwise loads vitest and what it imports (the sources, the AWS SDK, the browser driver) afresh, and the
    // suite took 350 s of CPU instead of 275 s (on 2 cores, ~175 s instead of ~150 s). So a file leaves nothing
    // behind: environment variables it sets go back (test/helpers/env.ts), servers it starts are stopped, no
    // working folder changes, no module mocks. Two projects, so that the unit tests can be run on their own.
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      // Tests of the built CLI (in temp folders), the browser and the package.
      { extends: true, test: { name: 'cli', include: ['test/**/*.test.ts'], exclude: ['test/unit/**'], isolate: false } },
    ],
  },
});
