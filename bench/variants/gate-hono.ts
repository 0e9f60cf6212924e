/**
 * The data plane's entry as a two-route Hono app (issue 19), to weigh against the plain
 * fetch handler of src/gate/index.ts: the same logic, with Hono's router choosing between
 * the admin prefix (to the control plane through the CONTROL service binding, 404 without
 * it) and everything else (the gate, a throw answered by the one 500). Benchmarked through
 * bench/gate-hono-worker.mjs (bench/README.md, "Two planes (round 5)").
 */
import { Hono } from "hono";
import { gate } from "../../src/gate/handler";
import type { GateEnv } from "../../src/platform/config";
import { errorResponse } from "../../src/platform/errors";
import { internalError } from "../../src/platform/internal-error";

const ADMIN_PREFIX = "/__region-gate";

const app = new Hono<{ Bindings: GateEnv }>();
// A throw from the gate (a misconfigured var, a bug): one 500 in the contract's error shape.
app.onError((err) => internalError(err));
// Hono's `/x/*` also matches `/x` itself, and not `/xy`: the prefix or a path below it. Unlike
// src/gate/index.ts, Hono matches the percent-decoded path, so `/%5F_region-gate/x` goes to
// the control plane here and to the gate there; no benchmark request has such a path.
app.all(`${ADMIN_PREFIX}/*`, (c) =>
  c.env.CONTROL ? c.env.CONTROL.fetch(c.req.raw) : errorResponse("not_found"),
);
app.all("*", (c) => gate(c.req.raw, c.env, c.executionCtx));

export default app;
