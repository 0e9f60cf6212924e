/** The bare worker, but the origin's request gets `new Headers(request.headers)` (a native copy) plus one `set`. */
export default {
  fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set("x-region-gate-decision", "pass");
    return fetch(new URL(url.pathname + url.search, env.ORIGIN_URL), { method: request.method, headers });
  },
};
