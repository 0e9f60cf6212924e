/**
 * Worker for bench/headers-bench.mjs: builds the origin's request `n` times per call, one
 * way per `?v=`, so that the cost of each way shows as workerd CPU (crossings into the
 * runtime included) without network noise. `previous` is the way before issue 11, kept
 * here only as the baseline.
 */

import { type ForwardOptions, originRequest } from "../src/gate/proxy";
import type { Verdict } from "../src/policy/decision";
import { factsOf } from "../src/policy/facts";

const TARGET = "http://origin.bench/v1/chat/completions?n=1";
const verdict = { decision: "pass", country: "JP", region: "JP" } as Verdict;
const options: ForwardOptions = { originBase: null, timeoutMs: 30000, policyVersion: "2026-12-01.1" };
const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
]);
for (const name of ["te", "trailer", "transfer-encoding", "upgrade"]) HOP.add(name);

function previous(request: Request, signal: AbortSignal): Request {
  const headers = new Headers(request.headers);
  const connection = request.headers.get("connection");
  const listed = connection ? new Set(connection.split(",").map((h) => h.trim().toLowerCase())) : null;
  const isWebSocket = request.headers.get("upgrade")?.toLowerCase() === "websocket";
  const drop: string[] = [];
  for (const name of headers.keys()) {
    if (name.startsWith("x-region-gate-")) drop.push(name);
    else if (
      (HOP.has(name) || listed?.has(name)) &&
      !(isWebSocket && (name === "upgrade" || name === "connection"))
    )
      drop.push(name);
  }
  for (const name of drop) headers.delete(name);
  const ip = request.headers.get("cf-connecting-ip");
  headers.delete("forwarded");
  for (const name of ["true-client-ip", "x-real-ip"]) {
    if (headers.has(name)) ip ? headers.set(name, ip) : headers.delete(name);
  }
  if (ip) headers.set("x-forwarded-for", ip);
  else headers.delete("x-forwarded-for");
  headers.set("cf-ipcountry", "JP");
  headers.set("x-region-gate-decision", "pass");
  headers.set("x-region-gate-country", "JP");
  headers.set("x-region-gate-region", "JP");
  headers.set("x-region-gate-policy", "2026-12-01.1");
  return new Request(TARGET, {
    method: request.method,
    headers,
    body: request.body,
    redirect: "manual",
    signal,
  });
}

const ways: Record<string, (request: Request, url: URL, signal: AbortSignal) => Request> = {
  /** The floor: what fetch(target, { headers: request.headers }) builds anyway. */
  passthrough: (request, _url, signal) =>
    new Request(TARGET, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal,
    }),
  previous: (request, _url, signal) => previous(request, signal),
  current: (request, url, signal) =>
    originRequest(request, TARGET, url, verdict, factsOf(request, url.pathname), options, signal),
  /** Parts, for the per-operation cost: one pass over the names with `keys()`, with `forEach`. */
  scanKeys: (request) => {
    let n = 0;
    for (const name of request.headers.keys()) if (name.startsWith("x-region-gate-")) n++;
    return n === 0 ? request : request;
  },
  scanForEach: (request) => {
    let n = 0;
    request.headers.forEach((_v, name) => {
      if (name.startsWith("x-region-gate-")) n++;
    });
    return n === 0 ? request : request;
  },
  /** Eight `set`s on a copy (what SPEC section 5 asks for, at most). */
  copySet8: (request, _url, signal) => {
    const out = new Request(TARGET, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal,
    });
    const h = out.headers;
    h.set("x-forwarded-for", "127.0.0.1");
    h.set("x-forwarded-host", "gate.bench");
    h.set("x-forwarded-proto", "https");
    h.set("cf-ipcountry", "JP");
    h.set("x-region-gate-decision", "pass");
    h.set("x-region-gate-country", "JP");
    h.set("x-region-gate-region", "JP");
    h.set("x-region-gate-policy", "2026-12-01.1");
    return out;
  },
};

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    const way = ways[url.searchParams.get("v") ?? ""];
    if (!way) return new Response(`?v= one of ${Object.keys(ways).join(", ")}`, { status: 400 });
    const n = Number(url.searchParams.get("n") ?? 20000);
    const signal = new AbortController().signal;
    let built = 0;
    for (let i = 0; i < n; i++) if (way(request, url, signal)) built++;
    return new Response(String(built));
  },
};
