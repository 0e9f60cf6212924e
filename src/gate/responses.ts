/**
 * Every answer the gate gives itself (SPEC section 4): one JSON error shape, and the
 * notice headers added to the origin's response.
 */

import { errorResponse } from "../platform/errors";
import type { CompiledPolicy } from "../policy/compile";
import type { Verdict } from "../policy/decision";
import { withSetCookies } from "./proxy";

/**
 * The 400 of SPEC section 3 for a path that climbs above the root under some reading. The
 * path is not echoed: it is the client's own, and can be 64 KiB.
 */
export function invalidRequestPath(message?: string): Response {
  return errorResponse("invalid_request_path", message);
}

/** The same 400 for a path or query with a `%` not followed by two hex digits (not a URI, RFC 3986 section 2.1). */
export function malformedRequestPath(): Response {
  return invalidRequestPath(
    "Request path or query has malformed percent-encoding (a `%` not followed by two hex digits); write a literal `%` as `%25`",
  );
}

export function policyUnavailable(): Response {
  return errorResponse("region_policy_unavailable", undefined, { headers: { "retry-after": "5" } });
}

/**
 * The 403 of SPEC section 4; the body is serialised once per policy: `unsupported_network`
 * with `error.networkMessage` when the network side decided.
 */
export function blocked(policy: CompiledPolicy, verdict: Verdict): Response {
  // A plain object becomes the response's headers in one native step (see `originRequest`).
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-region-gate-decision": "block",
    "x-region-gate-region": verdict.region ?? "XX",
    "x-region-gate-policy": policy.version,
  };
  if (policy.docsUrl) headers.link = `<${policy.docsUrl}>; rel="help"`;
  return new Response(verdict.network ? policy.networkBlockBody : policy.blockBody, { status: 403, headers });
}

/**
 * Adds the decision's notice headers to the origin's response without reading its body.
 * `pass` and `out_of_scope` come back untouched; a 101 (WebSocket) is never rewrapped.
 * Like the origin's request (`originRequest`), the new headers are a plain object built in
 * JavaScript from one iteration of the origin's, not `set` calls on a copy; repeated
 * `Set-Cookie` lines stay apart.
 */
export function withNotice(response: Response, policy: CompiledPolicy, verdict: Verdict): Response {
  const decision = verdict.decision;
  if (decision === "pass" || decision === "out_of_scope" || response.status === 101) return response;
  const blockFrom = decision === "warn" ? verdict.window?.blockFrom : null;
  const sunset = blockFrom != null && Number.isFinite(blockFrom) ? new Date(blockFrom).toUTCString() : null;
  // RFC 9745: `@` + Unix seconds. A warn verdict's window always has a finite warnFrom.
  const warnFrom = decision === "warn" ? verdict.window?.warnFrom : null;
  const deprecation =
    warnFrom != null && Number.isFinite(warnFrom) ? `@${Math.floor(warnFrom / 1000)}` : null;
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of response.headers) {
    if (name === "set-cookie") cookies.push(value);
    else headers[name] = value;
  }
  headers["x-region-gate-decision"] = decision;
  if (sunset !== null) headers.sunset = sunset;
  if (deprecation !== null) headers.deprecation = deprecation;
  if (decision === "warn" && policy.docsUrl) {
    const link = `<${policy.docsUrl}>; rel="sunset"`;
    headers.link = headers.link ? `${headers.link}, ${link}` : link;
  }
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: withSetCookies(headers, cookies),
  });
}
