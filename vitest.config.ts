import { defineConfig } from 'vitest/config';

// Test files live beside each service under <service>/test/. Real-time audio tests are slow but mostly
// idle (they pace audio at real time), so two forks share the machine's two cores well.
export default defineConfig({
  test: {
    include: ['{common,proto,agent,speech-server,control-api,charts,bench,tools}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.resilience.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['./test-support/global-setup.ts'],
    reporters: ['default'],
  },
});
