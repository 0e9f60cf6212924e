/**
 * bench/gate-worker.mjs for the two-route Hono variant of the data plane's entry
 * (bench/variants/gate-hono.ts): the same stats route and the ledger's Durable Object
 * class, so the two entries differ only in how a request reaches the gate.
 *
 *   GATES=gate=bench/gate-worker.mjs,hono=bench/gate-hono-worker.mjs,floor=bench/floor-worker.ts@bare
 */
import { storeStats } from "../src/store/store";
import gate from "./variants/gate-hono";

export { ExposureLedger } from "../src/control/ledger/ledger-do";

export default {
  fetch(request, env, ctx) {
    if (request.url.endsWith("/__bench/stats")) return Response.json(storeStats);
    return gate.fetch(request, env, ctx);
  },
};
