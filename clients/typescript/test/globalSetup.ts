// The real reference server for the run: `gateway-server demo` on a free port of
// 127.0.0.1, its data in a temporary directory, stopped when the run ends. The demo
// seeds a partner with an admin and a viewer, two sites, agents and incidents, and
// writes their credentials to a file; the tests read them through inject("demo").
//
// The server comes from the repository's Python venv: $GATEWAY_SERVER_BIN, else
// <repo>/$VENV/bin/gateway-server (VENV defaults to .venv, as in .ci/run).
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { TestProject } from "vitest/node";

export interface DemoCredentials {
  baseUrl: string;
  username: string;
  viewer: string;
  password: string;
  partnerId: string;
  sites: Record<string, string>;
}

declare module "vitest" {
  export interface ProvidedContext {
    demo: DemoCredentials;
  }
}

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const START_SECONDS = 60;
const STOP_SECONDS = 15;

function serverBin(): string {
  const bin =
    process.env.GATEWAY_SERVER_BIN ??
    resolve(REPO, process.env.VENV ?? ".venv", "bin", "gateway-server");
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      `no gateway-server at ${bin}: make the repository's venv first ` +
        "(python3 -m venv .venv && .venv/bin/python tools/dev_install.py) " +
        "or point GATEWAY_SERVER_BIN at one",
    );
  }
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? done(address.port) : fail(new Error("no port")),
      );
    });
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bin = serverBin();
  const dir = await mkdtemp(join(tmpdir(), "compliance-client-"));
  const port = await freePort();
  const credentialsFile = join(dir, "c.json");
  const server = spawn(
    bin,
    [
      "demo",
      "--port",
      String(port),
      "--data-dir",
      join(dir, "data"),
      "--credentials-file",
      credentialsFile,
      "--drain-seconds",
      "5",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  server.stdout.on("data", keep);
  server.stderr.on("data", keep);
  const exited = new Promise<void>((done) => server.once("exit", () => done()));

  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill("SIGTERM");
      const killer = setTimeout(() => server.kill("SIGKILL"), STOP_SECONDS * 1000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + START_SECONDS * 1000;
    let written: Record<string, unknown> | undefined;
    while (!written) {
      if (server.exitCode !== null || server.signalCode !== null) {
        throw new Error(
          `gateway-server demo exited (${server.exitCode ?? server.signalCode}):\n${output}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`gateway-server demo not ready in ${START_SECONDS} s:\n${output}`);
      }
      try {
        const ready = await fetch(`${base}/readyz`);
        if (ready.ok) {
          // the demo writes the file before it listens; a half-written one fails to parse
          written = JSON.parse(await readFile(credentialsFile, "utf8")) as Record<string, unknown>;
        }
      } catch {
        // not listening yet, or the file is not complete
      }
      if (!written) {
        await sleep(200);
      }
    }
    const compliance = written.compliance as Omit<DemoCredentials, "baseUrl">;
    project.provide("demo", { ...compliance, baseUrl: written.baseUrl as string });
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}
