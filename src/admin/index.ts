/**
 * Admin API (SPEC section 7), mounted at `/__region-gate`. Never proxied, never judged.
 */
import { Hono } from "hono";
import type { GateEnv } from "../config";
import { policyHealth } from "../policy/store";

export const admin = new Hono<{ Bindings: GateEnv }>();

admin.get("/healthz", (c) => {
  const { policyVersion, policyAgeSeconds } = policyHealth();
  return c.json({ ok: policyVersion !== null, policyVersion, policyAgeSeconds });
});
