/**
 * Every answer the gate gives itself (SPEC section 4): one JSON error shape, and the
 * notice headers added to the origin's response.
 */
import type { Verdict } from "../decision";
import { errorResponse } from "../errors";
import type { CompiledPolicy } from "../policy/compile";

const JSON_HEADERS = { "content-type": "application/json" } as const;

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

/** The 403 of SPEC section 4; the body is serialised once per policy. */
export function blocked(policy: CompiledPolicy, verdict: Verdict): Response {
  const headers = new Headers(JSON_HEADERS);
  headers.set("x-region-gate-decision", "block");
  headers.set("x-region-gate-region", verdict.region ?? "XX");
  headers.set("x-region-gate-policy", policy.version);
  if (policy.docsUrl) headers.set("link", `<${policy.docsUrl}>; rel="help"`);
  return new Response(policy.blockBody, { status: 403, headers });
}

/**
 * Adds the decision's notice headers to the origin's response without reading its body.
 * `pass` and `out_of_scope` come back untouched; a 101 (WebSocket) is never rewrapped.
 */
export function withNotice(response: Response, policy: CompiledPolicy, verdict: Verdict): Response {
  if (verdict.decision === "pass" || verdict.decision === "out_of_scope" || response.status === 101) {
    return response;
  }
  const out = new Response(response.body, response);
  out.headers.set("x-region-gate-decision", verdict.decision);
  if (verdict.decision === "warn") {
    const blockFrom = verdict.window?.blockFrom;
    if (blockFrom != null && Number.isFinite(blockFrom)) {
      out.headers.set("sunset", new Date(blockFrom).toUTCString());
    }
    if (policy.docsUrl) out.headers.append("link", `<${policy.docsUrl}>; rel="sunset"`);
  }
  return out;
}
