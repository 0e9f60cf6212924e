/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`. Both tokens are HMACed
 * with a random per-isolate key and the digests compared with `timingSafeEqual`, so
 * neither the content nor the length of the secret leaks through timing. Failed attempts
 * are rationed per client address (`AUTH_FAILURES_PER_MINUTE`), so guesses are slow too.
 */
import type { Context, MiddlewareHandler } from "hono";
import { errorResponse } from "../../platform/errors";
import { bearerToken } from "../../platform/fingerprint";
import { log } from "../../platform/log";
import type { AppEnv } from "../app";
import { callerOf, Ration } from "../ration";

/** Shortest ADMIN_TOKEN the admin surface accepts (SPEC section 1); shorter: 503 admin_misconfigured. */
export const ADMIN_TOKEN_MIN_LENGTH = 32;

/** Failed admin authentications (API bearer or dashboard sign-in) per client address and minute. */
export const AUTH_FAILURES_PER_MINUTE = 10;
const failures = new Ration(AUTH_FAILURES_PER_MINUTE);

/**
 * 429 with `Retry-After` while the request's client address has used up its failed
 * attempts, else null. Checked before the token is compared, so a throttled caller learns
 * nothing, not even from the right token.
 */
export function authThrottled(request: Request, now: number): Response | null {
  const wait = failures.wait(callerOf(request.headers), now);
  if (wait === 0) return null;
  log("warn", "admin_auth_throttled", { path: new URL(request.url).pathname, retryAfter: wait });
  return errorResponse(
    "rate_limited",
    `too many failed admin authentications from this address; retry in ${wait} s`,
    { headers: { "retry-after": String(wait) } },
  );
}

/** Counts a failed admin authentication against the request's client address. */
export function authFailed(request: Request, now: number): void {
  failures.take(callerOf(request.headers), now);
}

/** Forgets every failed attempt (tests). */
export function resetAuthFailures(): void {
  failures.reset();
}

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
  const now = Date.now();
  const throttled = authThrottled(c.req.raw, now);
  if (throttled !== null) return throttled;
  if (!(await tokensEqual(token, expected))) {
    authFailed(c.req.raw, now);
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
 * configured (SPEC section 9), otherwise `token` (SPEC section 7). Never a hash of the
 * token: history is read by whoever reads KV, and a salted hash there would let a guessed
 * token be confirmed offline.
 */
export function adminActor(c: Pick<Context<AppEnv>, "var">): string {
  return c.var.accessActor ?? TOKEN_ACTOR;
}

/** History's actor for a change made with the admin token. */
export const TOKEN_ACTOR = "token";
