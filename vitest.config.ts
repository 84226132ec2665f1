import { defineConfig } from 'vitest/config';

// Golden and kernel tests are CPU-heavy: CI has 2 cores, so run files on at most 2 workers.
// The timeouts only catch hangs: the slowest test takes ~10 s alone on 2 cores
// (the slowest hook, starting workerd, ~6 s), so they leave a loaded machine 30× and more.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
