import type { components } from "./schema.js";

/** The server's error codes (a client should keep unknown ones: the list may grow). */
export type ErrorCode = components["schemas"]["ErrorCode"];
/** One failing field of a 422: `loc` starts at `body`, `query` or `path`. */
export type FieldError = components["schemas"]["FieldError"];

/**
 * Every answer that is not 2xx: the document's `ApiError`, with the server's
 * `{detail, status: "error", code}`.
 *
 * `detail` is the message (for a 422, the one-line summary; the fields are in
 * `fieldErrors`), `code` the server's code, `requestId` the `X-Request-ID` to quote
 * when reporting it. An answer that is not the documented format (a proxy's HTML
 * page) keeps its status with `code` null.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode | (string & {}) | null;
  readonly fieldErrors: readonly FieldError[];
  readonly requestId: string | null;

  constructor(
    status: number,
    detail: string,
    code: ErrorCode | (string & {}) | null = null,
    options: { fieldErrors?: readonly FieldError[]; requestId?: string | null } = {},
  ) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.code = code;
    this.fieldErrors = options.fieldErrors ?? [];
    this.requestId = options.requestId ?? null;
  }

  /** Reads an error answer's body (it consumes it). */
  static async fromResponse(response: Response): Promise<ApiError> {
    const requestId = response.headers.get("x-request-id");
    const fallback = response.statusText || "Unknown error";
    let body: unknown;
    try {
      body = JSON.parse(await response.text());
    } catch {
      return new ApiError(response.status, fallback, null, { requestId });
    }
    if (typeof body !== "object" || body === null) {
      return new ApiError(response.status, fallback, null, { requestId });
    }
    const { detail, code, message } = body as Record<string, unknown>;
    const fieldErrors = Array.isArray(detail) ? (detail as FieldError[]) : [];
    const text =
      typeof detail === "string" ? detail : typeof message === "string" ? message : fallback;
    return new ApiError(response.status, text, typeof code === "string" ? code : null, {
      fieldErrors,
      requestId,
    });
  }
}
