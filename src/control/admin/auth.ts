/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`. Both tokens are HMACed
 * with a random per-isolate key and the digests compared with `timingSafeEqual`, so
 * neither the content nor the length of the secret leaks through timing.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { ControlEnv } from "../../platform/config";
import { errorResponse } from "../../platform/errors";
import { bearerToken, fingerprint } from "../../platform/fingerprint";
import { log } from "../../platform/log";
import type { AppEnv } from "../app";

/** Query parameters that look like credentials; URLs end up in logs, so they are refused. */
const QUERY_CREDENTIALS = ["token", "access_token", "admin_token", "auth", "authorization", "bearer", "key"];

/** Per-isolate random key, cached once generated (never as a promise shared across requests). */
let macKey: CryptoKey | undefined;

async function isolateKey(): Promise<CryptoKey> {
  if (!macKey) {
    const key = (await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ])) as CryptoKey;
    macKey ??= key; // two first callers may race: keep the first key, use the same one below
  }
  return macKey;
}

/** Constant-time equality of two secrets of any lengths: both are HMACed with one key, then compared. */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const key = await isolateKey();
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.sign("HMAC", key, encoder.encode(given)),
    crypto.subtle.sign("HMAC", key, encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/**
 * Guards every admin route registered after it, behind `adminSurface` (./access.ts, which
 * answers 404 while `ADMIN_TOKEN` is unset and checks Cloudflare Access): 400 for a token in
 * the query string, 401 for a missing or wrong bearer token.
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  // adminSurface answered 404 without a token; "" can match no bearer token (fail closed).
  const expected = c.env.ADMIN_TOKEN ?? "";
  const query = new URL(c.req.url).searchParams;
  const leaked = QUERY_CREDENTIALS.find((name) => query.has(name));
  if (leaked !== undefined) {
    return errorResponse(
      "token_in_query",
      `credentials in the query string (${leaked}=) are refused because URLs are logged; send Authorization: Bearer <ADMIN_TOKEN> instead`,
      { param: leaked },
    );
  }
  const challenge = { "www-authenticate": 'Bearer realm="region-gate admin"' };
  const token = bearerToken(c.req.header("authorization") ?? null);
  if (token === null) {
    return errorResponse(
      "missing_token",
      "admin API needs Authorization: Bearer <ADMIN_TOKEN> (the secret set with wrangler secret put ADMIN_TOKEN)",
      { headers: challenge },
    );
  }
  if (!(await tokensEqual(token, expected))) {
    log("warn", "admin_auth_failed", { path: new URL(c.req.url).pathname });
    return errorResponse(
      "invalid_token",
      "the bearer token is not the gate's ADMIN_TOKEN; check the secret",
      {
        headers: challenge,
      },
    );
  }
  await next();
};

/**
 * Who made a change, as recorded in history: the Cloudflare Access email when Access is
 * configured (SPEC section 9); otherwise `admin:<fingerprint of the token>` with
 * `IDENTITY_SALT` (reproducible with `region-gate key fingerprint`), or `admin` without a salt.
 * `token` defaults to the request's bearer token (the dashboard passes the admin token).
 */
export async function adminActor(
  c: Pick<Context<AppEnv>, "env" | "var" | "req">,
  token = bearerToken(c.req.header("authorization") ?? null),
): Promise<string> {
  return c.var.accessActor ?? actorOf(c.env, token);
}

/** How history records whoever holds `token`: `admin:<token fingerprint>`, or `admin` without a salt. */
export async function actorOf(env: ControlEnv, token: string | null): Promise<string> {
  return token && env.IDENTITY_SALT ? `admin:${await fingerprint(env.IDENTITY_SALT, token)}` : "admin";
}
