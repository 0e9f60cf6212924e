/**
 * region-gate: enforces a supported-regions policy at the edge (see ../README.md).
 *
 * Requests under the admin prefix go to the Hono app (admin API, dashboard, self-check),
 * so they are never proxied or judged. Every other request goes straight to the gate:
 * routing it through Hono as well cost ~100 µs of workerd CPU per request with the
 * admin, dashboard and self-check routes mounted (bench/README.md, "Hot path").
 */
import { Hono } from "hono";
import { admin } from "./admin";
import type { GateEnv } from "./config";
import { dashboard } from "./dashboard";
import { gate } from "./gate/handler";
import { serverError } from "./gate/responses";
import { log } from "./log";
import { selfCheck } from "./selfcheck";

/** The admin prefix (SPEC section 7). Not exported: workerd treats named exports of the entry module as entrypoints. */
const ADMIN_PREFIX = "/__region-gate";

function internalError(err: unknown): Response {
  log("error", "unhandled", { error: err instanceof Error ? err.message : String(err) });
  return serverError(500, "region_gate_error", "region-gate internal error");
}

const app = new Hono<{ Bindings: GateEnv }>();
app.onError(internalError);
app.route(`${ADMIN_PREFIX}/check`, selfCheck);
app.route(`${ADMIN_PREFIX}/dashboard`, dashboard);
app.route(ADMIN_PREFIX, admin);
app.all("*", (c) => gate(c.req.raw, c.env, c.executionCtx));

export default {
  async fetch(request: Request, env: GateEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith(ADMIN_PREFIX)) return app.fetch(request, env, ctx);
    try {
      return await gate(request, env, ctx, url);
    } catch (err) {
      // A misconfigured var (ConfigError) or a bug: one 500 in the contract's error shape.
      return internalError(err);
    }
  },
} satisfies ExportedHandler<GateEnv>;

export { ExposureLedger } from "./ledger/ledger-do";
