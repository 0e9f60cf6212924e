/**
 * The admin surface's front door, shared by the admin API and the dashboard (`/healthz`
 * and the self-check page stay outside it):
 * - 404 while ADMIN_TOKEN is unset: the admin surface does not exist then;
 * - 503 `admin_misconfigured` while it is shorter than 32 characters (SPEC section 1);
 * - with ACCESS_TEAM_DOMAIN and ACCESS_AUD set, a valid `Cf-Access-Jwt-Assertion` as well
 *   (SPEC section 9), whose email becomes the actor in policy history. The admin token
 *   (bearer or dashboard sign-in) is still required after it.
 */
import type { MiddlewareHandler } from "hono";
import { ConfigError } from "../../platform/config";
import { errorResponse } from "../../platform/errors";
import { log } from "../../platform/log";
import type { AppEnv } from "../app";
import { type AccessConfig, readAccessConfig } from "./access-config";
import { ADMIN_TOKEN_MIN_LENGTH } from "./auth";

declare module "hono" {
  interface ContextVariableMap {
    /** The Access identity of the request (its email), when Access is configured. */
    accessActor: string | undefined;
  }
}

let warnedDisabled = false;

export const adminSurface: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.env.ADMIN_TOKEN) {
    if (!warnedDisabled) {
      warnedDisabled = true;
      log("warn", "admin_disabled", {
        fix: "the admin API and dashboard answer 404 until the ADMIN_TOKEN secret is set (wrangler secret put ADMIN_TOKEN)",
      });
    }
    return errorResponse("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
  }
  const length = [...c.env.ADMIN_TOKEN].length;
  if (length < ADMIN_TOKEN_MIN_LENGTH) {
    // Fail closed: a short token could be guessed. The gate's own traffic is untouched.
    log("error", "admin_misconfigured", {
      error: `ADMIN_TOKEN is ${length} characters long; the admin surface needs at least ${ADMIN_TOKEN_MIN_LENGTH}`,
      fix: "set a long random token (openssl rand -base64 32 | npx wrangler secret put ADMIN_TOKEN)",
    });
    return errorResponse("admin_misconfigured");
  }
  let access: AccessConfig | null;
  try {
    access = readAccessConfig(c.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Fail closed: half-configured Access must not mean no Access.
    log("error", "access_misconfigured", { error: err.message });
    return errorResponse("access_misconfigured", err.message);
  }
  if (access !== null) {
    const assertion = c.req.header("cf-access-jwt-assertion");
    if (!assertion) {
      return errorResponse(
        "missing_access_jwt",
        "the admin surface is behind Cloudflare Access and this request carries no Cf-Access-Jwt-Assertion; reach it through the Access application, not around it",
      );
    }
    const { verifyAccessJwt } = await import("./access-jwt");
    const verdict = await verifyAccessJwt(access, assertion);
    if (!verdict.ok) {
      log("warn", "access_refused", {
        code: verdict.code,
        reason: verdict.detail,
        path: new URL(c.req.url).pathname,
      });
      return errorResponse(verdict.code, verdict.message);
    }
    c.set("accessActor", verdict.actor);
  }
  await next();
};
