/**
 * Forwards a request to the origin (SPEC section 5): streamed both ways, hop-by-hop,
 * path-override and client-sent `x-region-gate-*` headers removed, then the headers the
 * gate vouches for set, redirects returned rather than followed, WebSocket upgrades
 * passed through.
 */

import { errorResponse } from "../platform/errors";
import { log } from "../platform/log";
import type { Verdict } from "../policy/decision";
import type { Facts } from "../policy/facts";

/**
 * Client headers that never reach the origin as sent, lower case: RFC 9110 section 7.6.1
 * hop-by-hop headers plus legacy ones proxies still see; `expect` (workerd answers a
 * client's `Expect: 100-continue` itself when the gate reads the body, while an origin's
 * `100 Continue` would come back to the gate as a response it cannot return: a 500);
 * headers that tell an origin another path, host, port or scheme (`X-Original-URL` & co.,
 * routed on or built into URLs by IIS, Symfony, Envoy, nginx-ingress and Spring origins
 * without the gate having judged or seen that path: SPEC section 5's list); `Forwarded`,
 * whose `host`/`proto`/`by` the gate cannot vouch for.
 */
const REMOVED: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "x-original-url",
  "x-rewrite-url",
  "x-forwarded-prefix",
  "x-forwarded-uri",
  "x-original-uri",
  "x-original-path",
  "x-forwarded-path",
  "x-envoy-original-path",
  "x-host",
  "x-forwarded-server",
  "x-forwarded-port",
  "x-forwarded-scheme",
  "x-forwarded-ssl",
  "x-url-scheme",
  "front-end-https",
  "forwarded",
]);

/**
 * Client-address headers an origin may read besides `X-Forwarded-For`. Cloudflare sets
 * `CF-Connecting-IP` at the edge (a client cannot choose it); these arrive as the client
 * wrote them, so when sent they are rewritten to the edge's address (or removed).
 */
const ADDRESS_ALIASES: ReadonlySet<string> = new Set(["true-client-ip", "x-real-ip"]);

export interface ForwardOptions {
  /** `ORIGIN_URL`'s origin and base path (no trailing slash), or null in route mode. */
  originBase: string | null;
  timeoutMs: number;
  authSecret?: string;
  policyVersion: string | null;
}

/**
 * Names the gate itself sets for the origin: whatever the client sent under them is left
 * out, then the gate's own value is added.
 */
const SET_BY_GATE: ReadonlySet<string> = new Set([
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "cf-ipcountry",
]);

/**
 * A name the client lists in `Connection` is removed, unless the edge or the gate vouches
 * for it: `cf-*` and `cdn-loop` come from Cloudflare's edge, the rest the gate sets below.
 */
function vouched(name: string): boolean {
  return name.startsWith("cf-") || name === "cdn-loop" || SET_BY_GATE.has(name);
}

/**
 * The request for the origin (SPEC section 5).
 *
 * Why it is built this way (issue 11): the origin's headers are one plain object, handed to
 * the `Request` constructor, which reads it into the runtime's headers in one native step.
 * The client's headers cross into JavaScript once (one iteration of `request.headers`);
 * what must go is left out and the gate's own headers are added in plain JavaScript, with
 * no `Headers.set` or `delete` call. What it costs (bench/README.md, "Hot path, round 4",
 * workerd CPU per forwarded request over a bare `fetch(target, request)`, concurrent pairs,
 * medians of 7): the runtime charges about 5 µs for every header the origin's request
 * carries (the same forward with no headers at all: −28 µs), so the eight headers SPEC
 * section 5 adds cost some 30–40 µs however they are built: the client's headers copied
 * into an object +31 µs, a native copy plus eight `set`s +39 µs, the object plus the eight
 * (bench/floor-worker.ts, with the timeout) +48 µs. The object way is kept because adding
 * to it costs nothing measurable (eight extra names: within noise of none). An array of
 * `[name, value]` pairs is no alternative: the runtime reads it through the iterator
 * protocol, 45 µs per build against 17 µs for the object (`node bench/headers-bench.mjs`).
 * An object holds one value per name, which is all a `Headers` iteration gives except for
 * `Set-Cookie`: repeated `Set-Cookie` lines go through `withSetCookies` instead.
 * The gate's headers are added after the removals, so a name listed in `Connection` cannot
 * strip them.
 */
export function originRequest(
  request: Request,
  target: string,
  url: URL,
  verdict: Verdict | null,
  facts: Facts,
  options: ForwardOptions,
  signal: AbortSignal,
): Request {
  const client = request.headers;
  const connection = client.get("connection");
  const listed = connection ? new Set(connection.split(",").map((h) => h.trim().toLowerCase())) : null;
  const ip = facts.ip?.trim() || null;
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of client) {
    if (name.startsWith("x-region-gate-") || SET_BY_GATE.has(name)) continue;
    if (REMOVED.has(name) || (listed?.has(name) && !vouched(name))) {
      // A WebSocket handshake needs its Upgrade/Connection pair to reach the origin.
      if (!((name === "upgrade" || name === "connection") && isWebSocket(client))) continue;
    } else if (ADDRESS_ALIASES.has(name)) {
      // Rewritten to the address the edge vouches for, or left out without one.
      if (ip) headers[name] = ip;
      continue;
    } else if (name === "set-cookie") {
      cookies.push(value);
      continue;
    }
    headers[name] = value;
  }

  // From here on, only headers the gate vouches for.
  if (ip) headers["x-forwarded-for"] = ip;
  headers["x-forwarded-host"] = url.host;
  headers["x-forwarded-proto"] = url.protocol.slice(0, -1);
  // Only edge facts: a client's CF-IPCountry must not reach the origin as sent.
  const country = verdict ? verdict.country : facts.country;
  if (country) headers["cf-ipcountry"] = country;
  if (verdict === null) {
    // FAIL_MODE=open with no policy: tell the origin the gate did not judge this request.
    headers["x-region-gate-decision"] = "fail_open";
  } else {
    headers["x-region-gate-decision"] = verdict.decision;
    if (verdict.country) headers["x-region-gate-country"] = verdict.country;
    if (verdict.region) headers["x-region-gate-region"] = verdict.region;
  }
  if (options.policyVersion) headers["x-region-gate-policy"] = options.policyVersion;
  if (options.authSecret) headers["x-region-gate-auth"] = options.authSecret;
  return new Request(target, {
    method: request.method,
    headers: withSetCookies(headers, cookies),
    body: request.body,
    redirect: "manual",
    signal,
  });
}

/**
 * `headers` as they are, or, with more than one `Set-Cookie` line, as a `Headers` that keeps
 * each line apart (an object would join them into one, which a cookie's own commas break).
 */
export function withSetCookies(headers: Record<string, string>, cookies: readonly string[]): HeadersInit {
  if (cookies.length === 0) return headers;
  if (cookies.length === 1) {
    headers["set-cookie"] = cookies[0] as string;
    return headers;
  }
  const out = new Headers(headers);
  for (const cookie of cookies) out.append("set-cookie", cookie);
  return out;
}

function isWebSocket(headers: Headers): boolean {
  return headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** The URL the origin serves: `ORIGIN_URL`'s scheme and host (and base path) with the client's path and query. */
export function originTarget(incoming: URL, originBase: string | null): string {
  if (originBase === null) return incoming.href;
  return `${originBase}${incoming.pathname}${incoming.search}`;
}

/**
 * Sends the request on. Only the wait for response headers is bounded by `timeoutMs`;
 * once headers arrive the body streams for as long as the origin sends it: the runtime
 * applies a fetch's signal to the wait for the response, not to its body (the e2e test "a
 * body that takes longer than ORIGIN_TIMEOUT_MS is not cut" holds it to that). One native
 * `AbortSignal.timeout` replaces an AbortController, a `setTimeout` closure and its
 * `clearTimeout`, which took some 7.6 % of the isolate's samples against 5.5 % now
 * (`node bench/profile-gate.mjs`).
 */
export async function forward(
  request: Request,
  verdict: Verdict | null,
  facts: Facts,
  options: ForwardOptions,
  url: URL,
): Promise<Response> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const target = originTarget(url, options.originBase);
    return await fetch(originRequest(request, target, url, verdict, facts, options, signal));
  } catch (e) {
    if (signal.aborted) {
      return errorResponse(
        "origin_timeout",
        `Origin sent no response headers within ${options.timeoutMs} ms`,
      );
    }
    log("error", "origin_unreachable", { error: (e as Error).message });
    return errorResponse("origin_unreachable");
  }
}
