/**
 * Admin API (SPEC section 7), mounted at `/__region-gate`. Never proxied, never judged.
 * `/healthz` is public (monitoring needs no secret, and it reveals only a version, an
 * age and the kind of the last policy problem); every other route, `/status` with that
 * problem's detail among them, sits behind `adminSurface` (404 while ADMIN_TOKEN is unset,
 * Cloudflare Access when configured) and `requireAdmin` (the bearer token).
 */
import { Hono } from "hono";
import { type GateEnv, readConfig } from "../config";
import { noticeRoutes } from "../ledger/notices-route";
import { exposureRoutes } from "../ledger/routes";
import { log } from "../log";
import { getPolicy, policyHealth } from "../policy/store";
import { adminSurface } from "./access";
import { requireAdmin } from "./auth";
import { explainRoutes } from "./explain";
import { adminError } from "./http";
import { policyRoutes } from "./policy";

export const admin = new Hono<{ Bindings: GateEnv }>();

admin.onError((err) => {
  log("error", "admin_error", { error: err.message });
  return adminError(
    503,
    "admin_unavailable",
    `the admin API could not complete the request (${err.message}); retry, and check the POLICY and EXPOSURE bindings if it persists`,
  );
});

admin.get("/healthz", async (c) => {
  // Load (or reuse) the policy so an isolate that has served no request yet reports truly.
  await getPolicy(c.env.POLICY, readConfig(c.env).policyCacheMs);
  // Public: only the kind of problem (`invalid_policy`, `kv_timeout`, ...), never its detail,
  // which quotes the stored document (exemption CIDRs, notes).
  const { policyVersion, policyAgeSeconds, lastError } = policyHealth();
  return c.json(
    { ok: policyVersion !== null, policyVersion, policyAgeSeconds, ...(lastError ? { lastError } : {}) },
    policyVersion === null ? 503 : 200,
    { "cache-control": "no-store" },
  );
});

admin.use("*", adminSurface, requireAdmin);

/** `/healthz` plus the detail of the last policy read's problem, for operators. */
admin.get("/status", async (c) => {
  await getPolicy(c.env.POLICY, readConfig(c.env).policyCacheMs);
  const health = policyHealth();
  return c.json({ ok: health.policyVersion !== null, ...health }, 200, { "cache-control": "no-store" });
});
admin.route("/", policyRoutes);
admin.route("/", explainRoutes);
admin.route("/", exposureRoutes);
admin.route("/", noticeRoutes);
admin.all("*", (c) =>
  adminError(
    404,
    "not_found",
    `no admin route for ${c.req.method} ${new URL(c.req.url).pathname}; see docs/operations.md for the routes`,
  ),
);
