/**
 * The baseline for the gate benchmark: a pass-through worker with nothing but the
 * forward, in the same runtime and in front of the same origin as the gate.
 */
export default {
  fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    return fetch(new URL(url.pathname + url.search, env.ORIGIN_URL), request);
  },
};
