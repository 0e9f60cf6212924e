/** The bare worker, but the origin's request carries an empty plain-object `headers`. */
export default {
  fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    const url = new URL(request.url);
    return fetch(new URL(url.pathname + url.search, env.ORIGIN_URL), { method: request.method, headers: {} });
  },
};
