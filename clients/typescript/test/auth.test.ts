import { inspect } from "node:util";

import fetchCookie from "fetch-cookie";
import { CookieJar } from "tough-cookie";
import { describe, expect, test } from "vitest";

import { ApiError, createComplianceClient } from "../src/index.js";
import { anonymous, apiError, demo, loginAs, recordingFetch } from "./support.js";

describe("login with a bearer token", () => {
  test("login answers the user and a bearer token; me() answers the same user", async () => {
    const session = await anonymous().auth.login({
      username: demo.username,
      password: demo.password,
    });
    expect(session.token_type).toBe("bearer");
    expect(session.token.length).toBeGreaterThanOrEqual(32);
    expect(session.user).toMatchObject({
      username: demo.username,
      role: "admin",
      partner_id: demo.partnerId,
    });
    expect(Date.parse(session.expires_at)).toBeGreaterThan(Date.now());

    const admin = createComplianceClient({ baseUrl: demo.baseUrl, token: session.token });
    const me = await admin.auth.me();
    expect(me.user).toEqual(session.user);
    expect(me.expires_at).toBe(session.expires_at);
  });

  test("the token goes out as Authorization: Bearer, with credentials: include", async () => {
    const { token } = await loginAs("viewer");
    const recorder = recordingFetch();
    const viewer = createComplianceClient({ baseUrl: demo.baseUrl, token, fetch: recorder.fetch });
    expect((await viewer.auth.me()).user.role).toBe("viewer");
    const [request] = recorder.requests;
    expect(request?.headers.get("authorization")).toBe(`Bearer ${token}`);
    expect(request?.credentials).toBe("include");
    expect(request?.url).toBe(`${demo.baseUrl}/api/auth/me`);
  });

  test("the token is in no printed form of the client", async () => {
    const { token } = await loginAs("admin");
    const client = createComplianceClient({ baseUrl: demo.baseUrl, token });
    expect(inspect(client, { depth: 20, showHidden: true })).not.toContain(token);
    expect(JSON.stringify(client)).not.toContain(token);
  });

  test("a token function is read before every call, like the document's localStorage", async () => {
    const { token } = await loginAs("admin");
    let stored: string | null = null;
    const client = createComplianceClient({ baseUrl: demo.baseUrl, token: () => stored });
    expect((await apiError(client.auth.me())).code).toBe("NOT_AUTHENTICATED");
    stored = token;
    expect((await client.auth.me()).user.username).toBe(demo.username);
  });

  test("a wrong password is 401 INVALID_CREDENTIALS", async () => {
    const error = await apiError(
      anonymous().auth.login({ username: demo.viewer, password: "not-the-password" }),
    );
    expect(error.status).toBe(401);
    expect(error.code).toBe("INVALID_CREDENTIALS");
    expect(error.detail).toBeTruthy();
    expect(error.message).toBe(error.detail);
    expect(error.name).toBe("ApiError");
    expect(error.requestId).toMatch(/^[0-9a-f]+$/);
  });

  test("no session is 401 NOT_AUTHENTICATED", async () => {
    const error = await apiError(anonymous().sites.list());
    expect([error.status, error.code]).toEqual([401, "NOT_AUTHENTICATED"]);
  });

  test("logout revokes the token: 401 SESSION_INVALID after it", async () => {
    const admin = await loginAs("admin");
    await admin.auth.me();
    await admin.auth.logout();
    const error = await apiError(admin.auth.me());
    expect([error.status, error.code]).toEqual([401, "SESSION_INVALID"]);
    expect((await apiError(admin.auth.logout())).code).toBe("SESSION_INVALID");
  });
});

describe("the cookie session, as a browser holds it", () => {
  test("login sets the cookie, every call sends it, logout clears it", async () => {
    // a cookie jar in front of fetch: what a browser does with credentials: "include"
    const jar = new CookieJar();
    const browser = fetchCookie(fetch, jar);
    const recorder = recordingFetch();
    const client = createComplianceClient({
      baseUrl: demo.baseUrl,
      fetch: (request) =>
        browser(request).then((response) => {
          recorder.requests.push(request);
          return response;
        }),
    });

    const { token } = await client.auth.login({ username: demo.viewer, password: demo.password });
    const cookies = await jar.getCookies(`${demo.baseUrl}/api/auth/me`);
    expect(cookies.map((c) => [c.key, c.value, c.httpOnly, c.secure, c.path])).toEqual([
      ["session_token", token, true, true, "/api"],
    ]);

    expect((await client.auth.me()).user.username).toBe(demo.viewer);
    const me = recorder.requests.at(-1);
    expect(me?.headers.get("authorization")).toBeNull();
    expect(me?.headers.get("cookie")).toBe(`session_token=${token}`);

    await client.auth.logout();
    expect(await jar.getCookies(`${demo.baseUrl}/api/auth/me`)).toEqual([]);
    const error = await apiError(client.auth.me());
    expect([error.status, error.code]).toEqual([401, "NOT_AUTHENTICATED"]);
  });
});

describe("ApiError", () => {
  test("reads the document's format, a 422's fields, and answers that are not JSON", async () => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...headers },
      });

    const notFound = await ApiError.fromResponse(
      json(
        404,
        { detail: "Site not found", status: "error", code: "SITE_NOT_FOUND" },
        { "x-request-id": "abc" },
      ),
    );
    expect([notFound.status, notFound.detail, notFound.code, notFound.requestId]).toEqual([
      404,
      "Site not found",
      "SITE_NOT_FOUND",
      "abc",
    ]);

    const invalid = await ApiError.fromResponse(
      json(422, {
        detail: [{ loc: ["body", "name"], msg: "too long", type: "string_too_long" }],
        status: "error",
        code: "VALIDATION_ERROR",
        message: "1 invalid field: body.name",
      }),
    );
    expect(invalid.detail).toBe("1 invalid field: body.name");
    expect(invalid.fieldErrors.map((f) => f.loc)).toEqual([["body", "name"]]);

    const proxy = await ApiError.fromResponse(
      new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }),
    );
    expect([proxy.status, proxy.detail, proxy.code, proxy.fieldErrors]).toEqual([
      502,
      "Bad Gateway",
      null,
      [],
    ]);
    const empty = await ApiError.fromResponse(new Response(null, { status: 500 }));
    expect([empty.detail, empty.code]).toEqual(["Unknown error", null]);
  });

  test("a 2xx answer without the body the contract promises is an error, not undefined", async () => {
    const empty = async () =>
      new Response(null, { status: 200, headers: { "content-length": "0" } });
    const client = createComplianceClient({ baseUrl: demo.baseUrl, fetch: empty });
    await expect(client.sites.get(crypto.randomUUID())).rejects.toThrow(
      /answered 200 with no body, against the contract/,
    );
  });
});
