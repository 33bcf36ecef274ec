import { expect, inject } from "vitest";

import { ApiError, createComplianceClient, type ComplianceClient } from "../src/index.js";

/** The demo's partner: its admin, viewer, password, sites, on the server globalSetup started. */
export const demo = inject("demo");

/** A client without a session. */
export function anonymous() {
  return createComplianceClient({ baseUrl: demo.baseUrl });
}

/** Logs in as one of the demo's users; the client sends the token as a bearer. */
export async function loginAs(
  who: "admin" | "viewer",
): Promise<ComplianceClient & { token: string }> {
  const username = who === "admin" ? demo.username : demo.viewer;
  const { token } = await anonymous().auth.login({ username, password: demo.password });
  return { ...createComplianceClient({ baseUrl: demo.baseUrl, token }), token };
}

/** The ApiError the call rejects with (failing the test if it resolves or throws another). */
export async function apiError(call: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

/** A fetch that records every request it sends. */
export function recordingFetch(): {
  fetch: (request: Request) => Promise<Response>;
  requests: Request[];
} {
  const requests: Request[] = [];
  return {
    requests,
    fetch: (request) => {
      requests.push(request.clone());
      return fetch(request);
    },
  };
}

export const uniqueName = (prefix: string) => `${prefix} ${crypto.randomUUID().slice(0, 8)}`;
