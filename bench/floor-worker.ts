/**
 * A second reference for the gate benchmark: a Worker that does the forwarding half of
 * SPEC section 5 and keeps the origin timeout, with nothing else: the client's headers
 * copied, the eight headers the gate sets for the origin (`X-Forwarded-For`,
 * `X-Forwarded-Host`, `X-Forwarded-Proto`, `CF-IPCountry` and four `x-region-gate-*`) with
 * fixed values, and ORIGIN_TIMEOUT_MS on the wait for response headers. No policy, no
 * decision, no filtering, no `request.cf`. The gate minus this worker is the cost of
 * judging a request; this worker minus the bare one is the cost of forwarding it as the
 * SPEC asks (bench/README.md, "Hot path, round 4").
 */
/** The origin request of the floor, for a request judged `pass` in `country` / `region`. */
export function forwardAsGate(request: Request, originUrl: string, country: string, region: string) {
  const url = new URL(request.url);
  const headers: Record<string, string> = Object.fromEntries(request.headers);
  headers["x-forwarded-for"] = request.headers.get("cf-connecting-ip") ?? "127.0.0.1";
  headers["x-forwarded-host"] = url.host;
  headers["x-forwarded-proto"] = url.protocol.slice(0, -1);
  headers["cf-ipcountry"] = country;
  headers["x-region-gate-decision"] = "pass";
  headers["x-region-gate-country"] = country;
  headers["x-region-gate-region"] = region;
  headers["x-region-gate-policy"] = "2026-12-01.1";
  return fetch(new URL(url.pathname + url.search, originUrl), {
    method: request.method,
    headers,
    body: request.body,
    redirect: "manual",
    signal: AbortSignal.timeout(30_000),
  });
}

export default {
  fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    if (new URL(request.url).pathname === "/__bench/stats")
      return Promise.resolve(Response.json({ kvReads: 0 }));
    return forwardAsGate(request, env.ORIGIN_URL, "JP", "JP");
  },
};
