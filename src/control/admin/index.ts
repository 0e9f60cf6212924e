/**
 * Admin API (SPEC section 7), mounted at `/__region-gate`. Never proxied, never judged.
 * `/healthz` is public (monitoring needs no secret, and it reveals only a version, an
 * age and the kind of the last policy problem); every other route, `/status` with that
 * problem's detail among them, sits behind `adminSurface` (404 while ADMIN_TOKEN is unset,
 * Cloudflare Access when configured) and `requireAdmin` (the bearer token).
 */

import { errorResponse } from "../../platform/errors";
import { getPolicy, policyHealth } from "../../store/store";
import { newApp } from "../app";
import { exposureRoutes } from "../ledger/routes";
import { noticeRoutes } from "../notices/notices-route";
import { adminSurface } from "./access";
import { requireAdmin } from "./auth";
import { explainRoutes } from "./explain";
import { policyRoutes } from "./policy";

export const admin = newApp();

admin.get("/healthz", async (c) => {
  // Load (or reuse) the policy so an isolate that has served no request yet reports truly.
  await getPolicy(c.env);
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
  await getPolicy(c.env);
  const health = policyHealth();
  return c.json({ ok: health.policyVersion !== null, ...health }, 200, { "cache-control": "no-store" });
});
admin.route("/", policyRoutes);
admin.route("/", explainRoutes);
admin.route("/", exposureRoutes);
admin.route("/", noticeRoutes);
admin.all("*", (c) =>
  errorResponse(
    "not_found",
    `no admin route for ${c.req.method} ${new URL(c.req.url).pathname}; see docs/operations.md for the routes`,
  ),
);
