/**
 * The gate as benchmarked: the data plane's entry (`src/gate/index.ts`) unchanged, plus one
 * route that reports how often this isolate read the policy from KV (the target is ≈ 0
 * reads per request), and the ledger's Durable Object class, which the deployed gate binds
 * from region-gate-control: bench/gate-bench.mjs runs the gate as one Worker with a copy of
 * wrangler.toml that defines the class here instead. Built with the production pipeline:
 * `wrangler deploy bench/gate-worker.mjs --dry-run`.
 */
import gate from "../src/gate/index";
import { storeStats } from "../src/store/store";

export { ExposureLedger } from "../src/control/ledger/ledger-do";

export default {
  fetch(request, env, ctx) {
    if (request.url.endsWith("/__bench/stats")) return Response.json(storeStats);
    return gate.fetch(request, env, ctx);
  },
};
