import { body, type Api } from "./http.js";
import type { components } from "./schema.js";

export type LoginRequest = components["schemas"]["LoginRequest"];
export type LoginResponse = components["schemas"]["LoginResponse"];
export type CurrentSession = components["schemas"]["CurrentSession"];
export type User = components["schemas"]["User"];
export type Role = components["schemas"]["Role"];

/** `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`. */
export function authApi(api: Api) {
  return {
    /**
     * Logs in. The server sets the HttpOnly session cookie (kept by a browser, since
     * the client sends `credentials: "include"`) and answers the token too, for
     * `Authorization: Bearer` where there is no cookie jar (Node, scripts).
     */
    login: async (credentials: LoginRequest): Promise<LoginResponse> =>
      body(await api.POST("/api/auth/login", { body: credentials })),

    /** Revokes the session (the cookie is cleared; the token is refused from now on). */
    logout: async (): Promise<void> => {
      await api.POST("/api/auth/logout");
    },

    /** The session's user and when the session expires. */
    me: async (): Promise<CurrentSession> => body(await api.GET("/api/auth/me")),
  };
}

export type AuthApi = ReturnType<typeof authApi>;
