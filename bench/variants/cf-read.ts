/**
 * The bare pass-through worker plus one read of the edge's facts (`request.cf`), which the
 * runtime parses from JSON on first access: what judging a request costs before any policy.
 */
export default {
  fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    const country = request.cf?.country;
    if (country === "--") return Promise.resolve(new Response(null, { status: 400 }));
    return fetch(new URL(url.pathname + url.search, env.ORIGIN_URL), request);
  },
};
