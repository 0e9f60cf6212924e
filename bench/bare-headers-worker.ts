/**
 * A second baseline for the gate benchmark: the bare pass-through worker plus the eight
 * request headers the gate adds for the origin (SPEC section 5: `X-Forwarded-For`,
 * `X-Forwarded-Host`, `X-Forwarded-Proto`, `CF-IPCountry` and four `x-region-gate-*`),
 * with fixed values and no policy, decision or filtering. The gate minus this worker is
 * the gate's own logic; this worker minus the bare one is what the runtime charges for
 * forwarding those headers at all.
 */
export default {
  fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/stats") return Promise.resolve(Response.json({ kvReads: 0 }));
    const out = new Request(new URL(url.pathname + url.search, env.ORIGIN_URL), request);
    const headers = out.headers;
    headers.set("x-forwarded-for", request.headers.get("cf-connecting-ip") ?? "127.0.0.1");
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
    headers.set("cf-ipcountry", "JP");
    headers.set("x-region-gate-decision", "pass");
    headers.set("x-region-gate-country", "JP");
    headers.set("x-region-gate-region", "JP");
    headers.set("x-region-gate-policy", "2026-12-01.1");
    return fetch(out);
  },
};
