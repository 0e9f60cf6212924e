/**
 * Workers for the floor study (bench/README.md, "Where the floor comes from"): the bare
 * pass-through, with the client's headers copied into a plain object plus `count` extra
 * headers (`x-extra-0: 1`, …), optionally behind the gate's origin timeout. Each entry
 * file next to this one picks one combination, so the cost of each outgoing header and of
 * the timeout is measured apart from anything the gate decides.
 */
export function extraHeadersWorker(count: number, timeout: boolean) {
  return {
    async fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
      const url = new URL(request.url);
      if (url.pathname === "/__bench/stats") return Response.json({ kvReads: 0 });
      const target = new URL(url.pathname + url.search, env.ORIGIN_URL);
      const headers: Record<string, string> = Object.fromEntries(request.headers);
      for (let i = 0; i < count; i++) headers[`x-extra-${i}`] = "1";
      const init: RequestInit = { method: request.method, headers, body: request.body };
      if (!timeout) return fetch(target, init);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      try {
        return await fetch(target, { ...init, signal: controller.signal });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
