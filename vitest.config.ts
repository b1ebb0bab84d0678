import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: end-to-end suites spawn servers and builds, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
