import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // one real reference server for the whole run (gateway-server demo)
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // the machine has two cores, shared with the server the tests talk to
    maxWorkers: 2,
  },
});
