/**
 * region-gate: enforces a supported-regions policy at the edge (see ../README.md).
 * Admin routes are mounted before the catch-all gate, so they are never proxied or judged.
 */
import { Hono } from "hono";
import { admin } from "./admin";
import type { GateEnv } from "./config";
import { dashboard } from "./dashboard";
import { gate } from "./gate/handler";
import { serverError } from "./gate/responses";
import { log } from "./log";
import { selfCheck } from "./selfcheck";

const app = new Hono<{ Bindings: GateEnv }>();

app.onError((err) => {
  log("error", "unhandled", { error: err.message });
  return serverError(500, "region_gate_error", "region-gate internal error");
});

/** The admin prefix (SPEC section 7); everything else goes through the gate. */
// Not exported: workerd treats every named export of the entry module as an entrypoint.
const ADMIN_PREFIX = "/__region-gate";
app.route(`${ADMIN_PREFIX}/check`, selfCheck);
app.route(`${ADMIN_PREFIX}/dashboard`, dashboard);
app.route(ADMIN_PREFIX, admin);
app.all("*", gate);

export default app;
export { ExposureLedger } from "./ledger/ledger-do";
