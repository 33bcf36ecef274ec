// What every call goes through: the bearer token, ApiError for every non-2xx, and
// path parameters that cannot leave their segment.
import { defaultPathSerializer, type Client, type Middleware } from "openapi-fetch";

import { ApiError } from "./errors.js";
import type { paths } from "./schema.js";

/** The generic client: every operation of the contract, typed from `paths`. */
export type Api = Client<paths>;

/** A token, or a function read before every request (e.g. from the app's storage). */
export type TokenSource = string | (() => string | null | undefined);

/** Sends `Authorization: Bearer <token>` when there is a token and the call set none. */
export function bearerAuth(token: TokenSource): Middleware {
  return {
    onRequest({ request }) {
      const value = typeof token === "function" ? token() : token;
      if (value && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${value}`);
      }
      return request;
    },
  };
}

/** Turns every answer that is not 2xx into a thrown ApiError. */
export const throwApiErrors: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) {
      throw await ApiError.fromResponse(response);
    }
    return undefined;
  },
};

/**
 * openapi-fetch's path serializer, refusing before any request a path parameter that
 * is missing, empty, "." or "..": those would name another route once the URL is
 * normalised (`/api/sites/..` is `/api/`), where the server could not refuse them.
 */
export function checkedPathSerializer(pathname: string, params: Record<string, unknown>): string {
  for (const name of pathname.match(/\{([^}]+)\}/g) ?? []) {
    const key = name.slice(1, -1);
    const value = params[key];
    if (value === undefined || value === null || value === "" || value === "." || value === "..") {
      throw new TypeError(`${key}: a non-empty id is required, got ${JSON.stringify(value)}`);
    }
  }
  return defaultPathSerializer(pathname, params);
}

/** The body of a 2xx answer that must have one (every other answer threw an ApiError). */
export function body<T>(result: { data?: T; response: Response }): T {
  if (result.data === undefined) {
    const { status, url } = result.response;
    throw new Error(`${url} answered ${status} with no body, against the contract`);
  }
  return result.data;
}
