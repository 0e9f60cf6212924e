/**
 * Forwards a request to the origin (SPEC section 5): streamed both ways, hop-by-hop
 * and client-sent `x-region-gate-*` headers removed, gate headers added, redirects
 * returned rather than followed, WebSocket upgrades passed through.
 */
import type { Verdict } from "../decision";
import { log } from "../log";
import { serverError } from "./responses";

/** RFC 9110 section 7.6.1 hop-by-hop headers, plus legacy ones proxies still see. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export interface ForwardOptions {
  originUrl: URL | null;
  timeoutMs: number;
  authSecret?: string;
  policyVersion: string | null;
}

/**
 * Client-address headers an origin may read. Cloudflare sets `CF-Connecting-IP` at the
 * edge (a client cannot choose it); the others arrive as the client wrote them (Cloudflare
 * only appends to `X-Forwarded-For`), so none of them reaches the origin as sent: the
 * origin sees the edge's address or nothing. `Forwarded` also carries `host`/`proto`/`by`
 * that the gate cannot vouch for, so it is dropped rather than rewritten.
 */
function setClientAddress(headers: Headers, edgeIp: string | null): void {
  const ip = edgeIp?.trim() || null;
  headers.delete("forwarded");
  for (const name of ["true-client-ip", "x-real-ip"]) {
    if (headers.has(name)) {
      if (ip) headers.set(name, ip);
      else headers.delete(name);
    }
  }
  if (ip) headers.set("x-forwarded-for", ip);
  else headers.delete("x-forwarded-for");
}

/** Copies the client's headers for the origin, minus hop-by-hop and spoofable gate headers. */
export function originHeaders(request: Request, verdict: Verdict | null, options: ForwardOptions): Headers {
  const headers = new Headers(request.headers);
  const connection = request.headers.get("connection");
  const listed = connection ? new Set(connection.split(",").map((h) => h.trim().toLowerCase())) : null;
  // A WebSocket handshake needs its Upgrade/Connection pair to reach the origin.
  const isWebSocket = request.headers.get("upgrade")?.toLowerCase() === "websocket";
  // One pass over the names (each Headers call crosses into the runtime): usually nothing to delete.
  const drop: string[] = [];
  for (const name of headers.keys()) {
    if (name.startsWith("x-region-gate-")) drop.push(name);
    else if (HOP_BY_HOP.has(name) || listed?.has(name)) {
      if (!(isWebSocket && (name === "upgrade" || name === "connection"))) drop.push(name);
    }
  }
  for (const name of drop) headers.delete(name);
  setClientAddress(headers, request.headers.get("cf-connecting-ip"));
  if (verdict === null) {
    // FAIL_MODE=open with no policy: tell the origin the gate did not judge this request.
    headers.set("x-region-gate-decision", "fail_open");
  } else {
    // Only edge facts: a client's CF-IPCountry must not reach the origin as sent.
    if (verdict.country) headers.set("cf-ipcountry", verdict.country);
    else headers.delete("cf-ipcountry");
    headers.set("x-region-gate-decision", verdict.decision);
    if (verdict.country) headers.set("x-region-gate-country", verdict.country);
    if (verdict.region) headers.set("x-region-gate-region", verdict.region);
  }
  if (options.policyVersion) headers.set("x-region-gate-policy", options.policyVersion);
  if (options.authSecret) headers.set("x-region-gate-auth", options.authSecret);
  return headers;
}

/** The URL the origin serves: `ORIGIN_URL`'s scheme and host (and base path) with the client's path and query. */
export function originTarget(incoming: URL, originUrl: URL | null): string {
  if (originUrl === null) return incoming.href;
  const base = originUrl.pathname.replace(/\/$/, "");
  return `${originUrl.origin}${base}${incoming.pathname}${incoming.search}`;
}

/**
 * Sends the request on. Only the wait for response headers is bounded by `timeoutMs`;
 * once headers arrive the body streams for as long as the origin sends it.
 */
export async function forward(
  request: Request,
  verdict: Verdict | null,
  options: ForwardOptions,
  url: URL = new URL(request.url),
): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const init: RequestInit = {
    method: request.method,
    headers: originHeaders(request, verdict, options),
    body: request.body,
    redirect: "manual",
    signal: controller.signal,
  };
  try {
    return await fetch(originTarget(url, options.originUrl), init);
  } catch (e) {
    if (timedOut) {
      return serverError(
        504,
        "origin_timeout",
        `Origin sent no response headers within ${options.timeoutMs} ms`,
      );
    }
    log("error", "origin_unreachable", { error: (e as Error).message });
    return serverError(502, "origin_unreachable", "Origin unreachable");
  } finally {
    clearTimeout(timer);
  }
}
