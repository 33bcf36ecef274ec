import createClient from "openapi-fetch";

import { authApi, type AuthApi } from "./auth.js";
import {
  bearerAuth,
  checkedPathSerializer,
  throwApiErrors,
  type Api,
  type TokenSource,
} from "./http.js";
import { incidentsApi, type IncidentsApi } from "./incidents.js";
import type { paths } from "./schema.js";
import { sitesApi, type SitesApi } from "./sites.js";

export interface ComplianceClientOptions {
  /** The server's origin (`https://compliance.example.com`); `""` for the page's own origin in a browser. */
  baseUrl: string;
  /**
   * `Authorization: Bearer` on every call: the token `auth.login` answers, or a
   * function read before each call. Leave it out in a browser that holds the session
   * cookie; when both are sent, the server takes the header.
   */
  token?: TokenSource;
  /** A fetch to call instead of `globalThis.fetch` (tests, a proxy, a cookie jar). */
  fetch?: (request: Request) => Promise<Response>;
  /** Whether the browser sends the session cookie: `"include"` unless told otherwise. */
  credentials?: RequestCredentials;
  /** Headers sent on every call. */
  headers?: Record<string, string>;
}

export interface ComplianceClient {
  /** Every operation of the contract, typed (openapi-fetch); it throws ApiError too. */
  readonly api: Api;
  readonly auth: AuthApi;
  readonly sites: SitesApi;
  readonly incidents: IncidentsApi;
}

/**
 * A typed client for the compliance platform's REST API. Every answer that is not
 * 2xx throws an ApiError with the server's `status`, `detail` and `code`.
 */
export function createComplianceClient(options: ComplianceClientOptions): ComplianceClient {
  const api = createClient<paths>({
    baseUrl: options.baseUrl,
    credentials: options.credentials ?? "include",
    pathSerializer: checkedPathSerializer,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  if (options.token !== undefined) {
    api.use(bearerAuth(options.token));
  }
  api.use(throwApiErrors);
  return {
    api,
    auth: authApi(api),
    sites: sitesApi(api),
    incidents: incidentsApi(api),
  };
}
