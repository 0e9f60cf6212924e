/**
 * The gate as benchmarked: `src/index.ts` unchanged, plus one route that reports how
 * often this isolate read the policy from KV (the target is ≈ 0 reads per request).
 * Built with the production pipeline: `wrangler deploy bench/gate-worker.mjs --dry-run`.
 */
import app from "../src/index";
import { storeStats } from "../src/policy/store";

export { ExposureLedger } from "../src/index";

export default {
  fetch(request, env, ctx) {
    if (request.url.endsWith("/__bench/stats")) return Response.json(storeStats);
    return app.fetch(request, env, ctx);
  },
};
