/**
 * The one error envelope. Every error the worker answers (the gate's own 400/403/5xx, the
 * admin API, the dashboard's form errors, the self-check) is
 * `{"error":{"message","type","param","code"}}`, OpenAI's error shape (SPEC sections 4
 * and 7), plus `errors: [...]` where a request had several problems. The code decides the
 * status and the `type`; `ERRORS` is the list of every code the worker gives out.
 */

type ErrorType = "invalid_request_error" | "authentication_error" | "request_forbidden" | "server_error";

interface ErrorSpec {
  status: 400 | 401 | 403 | 404 | 409 | 412 | 413 | 422 | 429 | 500 | 502 | 503 | 504;
  /** 401 `authentication_error`, 403 `request_forbidden`, 5xx `server_error`, else `invalid_request_error`. */
  type: ErrorType;
  /** Used when the answer has nothing more specific to say; most answers do. */
  message: string;
}

const invalid = (status: ErrorSpec["status"], message: string): ErrorSpec => ({
  status,
  type: "invalid_request_error",
  message,
});
const auth = (message: string): ErrorSpec => ({ status: 401, type: "authentication_error", message });
const server = (status: ErrorSpec["status"], message: string): ErrorSpec => ({
  status,
  type: "server_error",
  message,
});

export const ERRORS = {
  // The gate (SPEC section 4).
  unsupported_country_region_territory: {
    status: 403,
    type: "request_forbidden",
    message: "Country, region, or territory not supported",
  },
  unsupported_network: { status: 403, type: "request_forbidden", message: "Network not supported" },
  invalid_request_path: invalid(
    400,
    "Request path climbs above the root (a `..` segment, possibly percent-encoded or written `..;`); send the path without dot segments",
  ),
  region_policy_unavailable: server(503, "Region policy unavailable; try again later"),
  origin_unreachable: server(502, "Origin unreachable"),
  origin_timeout: server(504, "Origin sent no response headers in time"),
  /** A misconfigured var (ConfigError, the fix is logged) or a bug. */
  region_gate_error: server(500, "region-gate internal error"),

  // The admin surface: API, dashboard, self-check (SPEC section 7, docs/operations.md).
  not_found: invalid(404, "no such route; see docs/operations.md for the routes"),
  token_in_query: invalid(
    400,
    "credentials in the query string are refused; send Authorization: Bearer <ADMIN_TOKEN>",
  ),
  missing_token: auth("admin API needs Authorization: Bearer <ADMIN_TOKEN>"),
  invalid_token: auth("the bearer token is not the gate's ADMIN_TOKEN; check the secret"),
  missing_access_jwt: auth(
    "the admin surface is behind Cloudflare Access and this request carries no Cf-Access-Jwt-Assertion",
  ),
  invalid_access_jwt: auth("the Cf-Access-Jwt-Assertion is not a valid token of this Access application"),
  access_keys_unavailable: server(503, "the Access team's signing keys could not be read; retry"),
  access_misconfigured: server(503, "set both ACCESS_TEAM_DOMAIN and ACCESS_AUD, or neither"),
  admin_misconfigured: server(
    503,
    "the admin surface is switched off until its secrets are fixed; the admin_misconfigured log line says why",
  ),
  rate_limited: invalid(429, "too many requests from this address; retry after the Retry-After seconds"),
  body_too_large: invalid(413, "request body is over this route's limit; nothing was read or stored"),
  invalid_json: invalid(400, "request body is not a JSON document"),
  invalid_form: invalid(400, "the form body is malformed; reload the page and submit again"),
  policy_invalid: invalid(422, "the policy document is invalid; `errors` lists every problem"),
  policy_changed: invalid(412, "the active policy changed meanwhile; read it again and retry"),
  version_conflict: invalid(409, "that version is already stored with other content; bump `version`"),
  version_not_found: invalid(
    404,
    "no stored policy has that version; GET /__region-gate/policy/history lists them",
  ),
  policy_absent: invalid(404, "no policy is stored yet; PUT one or run `region-gate policy push FILE`"),
  invalid_rollback: invalid(400, 'send {"version": "<a version from GET /policy/history>"}'),
  invalid_time: invalid(
    400,
    "not a time; use RFC 3339 with an offset (2024-07-09T10:00:00Z) or a day (2024-07-09)",
  ),
  invalid_explain_query: invalid(400, "the explain query is invalid; `errors` lists every problem"),
  invalid_exposure_query: invalid(400, "the exposure query is invalid"),
  invalid_cursor: invalid(
    400,
    "cursor is not one this route gave out; pass the previous page's `next` unchanged",
  ),
  exposure_unavailable: server(
    503,
    "the exposure ledger could not be read; retry, and check the EXPOSURE binding",
  ),
  admin_unavailable: server(
    503,
    "the admin surface could not complete the request (the cause is logged as admin_error); retry, and check the POLICY and EXPOSURE bindings if it persists",
  ),
} as const satisfies Record<string, ErrorSpec>;

/** Every machine-readable error code the worker answers with. */
export type ErrorCode = keyof typeof ERRORS;

export interface ErrorDetail {
  /** The parameter (query, body field) at fault. */
  param?: string | null;
  /** Each problem, when there are several (`[{path, message}]` on a 422). */
  errors?: unknown;
  headers?: HeadersInit;
}

/** The JSON text of an error, e.g. `{"error":{"message":"Origin unreachable","type":"server_error","param":null,"code":"origin_unreachable"}}`. */
export function errorBody(
  code: ErrorCode,
  message: string = ERRORS[code].message,
  detail: ErrorDetail = {},
): string {
  const error = { message, type: ERRORS[code].type, param: detail.param ?? null, code };
  return JSON.stringify(detail.errors === undefined ? { error } : { error, errors: detail.errors });
}

/**
 * The error as a response: the code's status, `content-type: application/json`, and
 * `cache-control: no-store` (an error is about this request, never to be reused).
 */
export function errorResponse(code: ErrorCode, message?: string, detail: ErrorDetail = {}): Response {
  const headers = new Headers(detail.headers);
  headers.set("content-type", "application/json");
  headers.set("cache-control", "no-store");
  return new Response(errorBody(code, message, detail), { status: ERRORS[code].status, headers });
}
