import { fileURLToPath } from "node:url";

import { defineConfig } from "vitest/config";

export default defineConfig({
  // the examples import the package by its name, as its users do
  resolve: {
    alias: {
      "@ops-suite/compliance-client": fileURLToPath(new URL("./src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    // one real reference server for the whole run (gateway-server demo)
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // one file at a time: they share the server, and the totals they compare hold only
    // while no other file creates sites or resolves incidents
    fileParallelism: false,
  },
});
