/**
 * bench/floor-worker.ts with the country and subdivision read from `request.cf`, as any
 * gate must: the least a SPEC-conforming gate can do before it consults a policy.
 */
export default {
  fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    const cf = request.cf;
    const country = typeof cf?.country === "string" ? cf.country : "XX";
    const region = typeof cf?.regionCode === "string" ? `${country}-${cf.regionCode}` : country;
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    headers["x-forwarded-for"] = request.headers.get("cf-connecting-ip") ?? "127.0.0.1";
    headers["x-forwarded-host"] = url.host;
    headers["x-forwarded-proto"] = url.protocol.slice(0, -1);
    headers["cf-ipcountry"] = country;
    headers["x-region-gate-decision"] = "pass";
    headers["x-region-gate-country"] = country;
    headers["x-region-gate-region"] = region;
    headers["x-region-gate-policy"] = "2026-11-25.1";
    return fetch(new URL(url.pathname + url.search, env.ORIGIN_URL), {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
  },
};
