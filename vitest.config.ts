import { defineConfig } from 'vitest/config';

// Golden and kernel tests are CPU-heavy: CI has 2 cores, so run files on at most 2 workers.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
