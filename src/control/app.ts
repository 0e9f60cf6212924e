/**
 * The one Hono app factory: every app and sub-app (admin API, its route groups, the
 * dashboard, the self-check) is made here, so the `Bindings` type and the error handler
 * are set once. The gate's own path does not go through Hono (see ./index.ts).
 */
import { type Context, Hono } from "hono";
import { ConfigError, type ControlEnv } from "../platform/config";
import { errorResponse } from "../platform/errors";
import { internalError } from "../platform/internal-error";
import { log } from "../platform/log";

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
export type AppEnv<Variables extends object = object> = { Bindings: ControlEnv; Variables: Variables };

/** A Hono app with the worker's bindings and the shared error handler. */
export function newApp<Variables extends object = object>(): Hono<AppEnv<Variables>> {
  const app = new Hono<AppEnv<Variables>>();
  app.onError(onError);
  return app;
}
