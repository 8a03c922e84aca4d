import { defineConfig } from 'vitest/config';

// The resilience suite (`npm run test:resilience`, also run by .ci/run): slow tests that break things on
// purpose and print their figures as one JSON line each. Files run one at a time (they load the machine on
// purpose and time real audio); the whole suite is sized to finish in under 8 minutes on 2 cores.
export default defineConfig({
  test: {
    include: ['**/*.resilience.test.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
