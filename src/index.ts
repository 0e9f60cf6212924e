/**
 * region-gate: enforces a supported-regions policy at the edge (see ../README.md).
 *
 * Requests under the admin prefix go to the Hono app (admin API, dashboard, self-check),
 * so they are never proxied or judged. Every other request goes straight to the gate:
 * routing it through Hono as well cost ~100 µs of workerd CPU per request with the
 * admin, dashboard and self-check routes mounted (bench/README.md, "Hot path").
 */
import { admin } from "./admin";
import { internalError, newApp } from "./app";
import type { GateEnv } from "./config";
import { dashboard } from "./dashboard";
import { gate } from "./gate/handler";
import { selfCheck } from "./selfcheck";

/** The admin prefix (SPEC section 7). Not exported: workerd treats named exports of the entry module as entrypoints. */
const ADMIN_PREFIX = "/__region-gate";

const app = newApp();
app.route(`${ADMIN_PREFIX}/check`, selfCheck);
app.route(`${ADMIN_PREFIX}/dashboard`, dashboard);
app.route(ADMIN_PREFIX, admin);

/** The prefix itself or a path below it; `/__region-gatex` is an ordinary path, judged by the gate. */
const isAdminPath = (path: string) =>
  path.startsWith(ADMIN_PREFIX) && (path.length === ADMIN_PREFIX.length || path[ADMIN_PREFIX.length] === "/");

export default {
  async fetch(request: Request, env: GateEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (isAdminPath(url.pathname)) return app.fetch(request, env, ctx);
    try {
      return await gate(request, env, ctx, url);
    } catch (err) {
      // A misconfigured var (ConfigError) or a bug: one 500 in the contract's error shape.
      return internalError(err);
    }
  },
} satisfies ExportedHandler<GateEnv>;

export { ExposureLedger } from "./ledger/ledger-do";
