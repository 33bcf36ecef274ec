import { readFile } from "node:fs/promises";

import { afterEach, expect, test, vi } from "vitest";

import { demo } from "./support.js";

const EXAMPLE = new URL("../examples/sites.ts", import.meta.url);

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

test("examples/sites.ts runs against the demo and prints what it promises", async () => {
  vi.stubEnv("COMPLIANCE_BASE_URL", demo.baseUrl);
  vi.stubEnv("COMPLIANCE_USERNAME", demo.username);
  vi.stubEnv("COMPLIANCE_PASSWORD", demo.password);
  const printed: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void printed.push(line));

  await import("../examples/sites.js");

  expect(printed[0]).toBe(`logged in as ${demo.username} (admin)`);
  expect(printed).toContain("renamed: Harbor Pediatrics East");
  expect(printed).toContain("after delete: 404 SITE_NOT_FOUND");
  const sites = printed.find((line) => / sites: /.test(line));
  for (const name of Object.keys(demo.sites)) {
    expect(sites).toContain(name);
  }
  expect(printed.find((line) => line.startsWith("open high-severity incidents: "))).toMatch(
    /: [1-9]/,
  );
});

test("the README shows examples/sites.ts as it is", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const example = await readFile(EXAMPLE, "utf8");
  expect(readme).toContain("```ts\n" + example + "```");
});
