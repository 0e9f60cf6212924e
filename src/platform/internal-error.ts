/**
 * The one 500 of both Workers: a misconfigured var (the ConfigError says how to fix it, in
 * the log) or a bug. Apart from ./errors.ts, which the CLI shares and which must not reach
 * the runtime's env types through ./config.ts.
 */
import { ConfigError } from "./config";
import { errorResponse } from "./errors";
import { log } from "./log";

export function internalError(err: unknown): Response {
  const error = err instanceof Error ? err.message : String(err);
  log("error", err instanceof ConfigError ? "config_invalid" : "unhandled", { error });
  return errorResponse("region_gate_error");
}
