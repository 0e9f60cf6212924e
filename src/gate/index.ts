/**
 * region-gate, the data plane (SPEC section 1; ../../README.md): every request is judged
 * and answered by the gate (403, or streamed to the origin), except those under the admin
 * prefix, which go to the control plane through the CONTROL service binding (404 without
 * it) and are never judged or sent to the origin.
 *
 * A plain fetch handler, not a two-route Hono app: paired with bench/floor-worker.ts in the
 * same run (run F, 9 rounds), this entry cost +26 µs (pass) and +22 µs (mixed) of worker CPU
 * over the floor, the Hono variant (bench/variants/gate-hono.ts) +43 µs and +34 µs; across
 * six runs Hono cost −1 … +37 µs more, never cheaper beyond noise (bench/README.md, "Two
 * planes (round 5)").
 */
import type { GateEnv } from "../platform/config";
import { errorResponse } from "../platform/errors";
import { internalError } from "../platform/internal-error";
import { gate } from "./handler";

/** The admin prefix (SPEC section 7). Not exported: workerd treats named exports of the entry module as entrypoints. */
const ADMIN_PREFIX = "/__region-gate";

/** The prefix itself or a path below it; `/__region-gatex` is an ordinary path, judged by the gate. */
const isAdminPath = (path: string) =>
  path.startsWith(ADMIN_PREFIX) && (path.length === ADMIN_PREFIX.length || path[ADMIN_PREFIX.length] === "/");

export default {
  async fetch(request: Request, env: GateEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (isAdminPath(url.pathname)) {
      return env.CONTROL ? env.CONTROL.fetch(request) : errorResponse("not_found");
    }
    try {
      return await gate(request, env, ctx, url);
    } catch (err) {
      // A misconfigured var (ConfigError) or a bug: one 500 in the contract's error shape.
      return internalError(err);
    }
  },
} satisfies ExportedHandler<GateEnv>;
