/**
 * The one Hono app factory: every app and sub-app (admin API, its route groups, the
 * dashboard, the self-check) is made here, so the `Bindings` type and the error handler
 * are set once. The gate's own path does not go through Hono (see ./index.ts).
 */
import { type Context, Hono } from "hono";
import { ConfigError, type GateEnv } from "./config";
import { errorResponse } from "./errors";
import { log } from "./log";

/** The 500 of a misconfigured var (the ConfigError says how to fix it, in the log) or a bug. */
export function internalError(err: unknown): Response {
  const error = err instanceof Error ? err.message : String(err);
  log("error", err instanceof ConfigError ? "config_invalid" : "unhandled", { error });
  return errorResponse("region_gate_error");
}

/**
 * What a handler under the admin prefix throws: a ConfigError is the deploy's fault and
 * answers like the gate (500); anything else is a storage failure (KV, the ledger's
 * Durable Objects) and answers 503 `admin_unavailable`, never a bare 500. The cause goes to
 * the log only: the self-check is public, and the message may quote storage internals.
 */
function onError(err: Error, c: Context): Response {
  if (err instanceof ConfigError) return internalError(err);
  log("error", "admin_error", { path: new URL(c.req.url).pathname, error: err.message });
  return errorResponse("admin_unavailable");
}

/** The Hono environment of every app: the worker's bindings, plus per-request `Variables`. */
export type AppEnv<Variables extends object = object> = { Bindings: GateEnv; Variables: Variables };

/** A Hono app with the worker's bindings and the shared error handler. */
export function newApp<Variables extends object = object>(): Hono<AppEnv<Variables>> {
  const app = new Hono<AppEnv<Variables>>();
  app.onError(onError);
  return app;
}
