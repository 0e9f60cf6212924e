/**
 * Verifies a Cloudflare Access token (`Cf-Access-Jwt-Assertion`) with jose: RS256 only, a
 * key from the team's `/cdn-cgi/access/certs`, `aud` = the application's AUD tag, `iss` =
 * `https://<team domain>`, and an `exp` in the future. Loaded by `./access.ts` with a dynamic
 * import, so jose is evaluated on the first admin request that needs it, never on the gate's.
 */
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { AccessConfig } from "./access-config";

export type AccessVerdict =
  | { ok: true; actor: string }
  | {
      ok: false;
      status: 401 | 503;
      code: "invalid_access_jwt" | "access_keys_unavailable";
      /** For the client: never names the team domain or the certs URL. */
      message: string;
      /** For the log only: the cause, with the certs URL. */
      detail: string;
    };

/**
 * How long a failed fetch of the team's keys is remembered (SPEC section 9): meanwhile every
 * token that needs them is answered 503 at once, so a burst of requests during an outage of
 * the certs endpoint makes one fetch, not one each.
 */
export const FAILED_KEYS_MEMORY_MS = 10_000;

/**
 * The team's key set, one per certs URL. jose keeps the fetched keys for 10 minutes and
 * refetches at most every 30 s when a token names an unknown `kid` (a key rotation). What
 * outlives a request is the resolved key set only: on Workers jose never hands one request's
 * pending fetch to another (it starts its own), because workerd ties a pending promise to
 * the request that created it (the same rule as the cached keys of ./auth.ts).
 */
let keySet:
  | { certsUrl: string; remote: JWTVerifyGetKey; failed: { at: number; reason: string } | null }
  | undefined;

/** The certs endpoint could not be read: the gate cannot tell a good token from a bad one. */
class KeysUnavailable extends Error {}

function keysOf(config: AccessConfig): JWTVerifyGetKey {
  if (keySet?.certsUrl !== config.certsUrl) {
    keySet = {
      certsUrl: config.certsUrl,
      remote: createRemoteJWKSet(new URL(config.certsUrl)),
      failed: null,
    };
  }
  const set = keySet;
  return async (header, token) => {
    const failed = set.failed;
    if (failed !== null && Date.now() - failed.at < FAILED_KEYS_MEMORY_MS) {
      throw new KeysUnavailable(`${failed.reason} (remembered for ${FAILED_KEYS_MEMORY_MS / 1000} s)`);
    }
    try {
      const key = await set.remote(header, token);
      set.failed = null;
      return key;
    } catch (err) {
      // No key for the token's kid is the token's fault; anything else is the fetch's.
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw err;
      const reason = err instanceof Error ? err.message : String(err);
      set.failed = { at: Date.now(), reason };
      throw new KeysUnavailable(reason);
    }
  };
}

/** Who history records: the token's `email`, or the service token's name for machine access. */
function actorOf(payload: Record<string, unknown>): string | null {
  if (typeof payload.email === "string" && payload.email !== "") return payload.email;
  if (typeof payload.common_name === "string" && payload.common_name !== "") {
    return `access-service:${payload.common_name}`;
  }
  return null;
}

export async function verifyAccessJwt(config: AccessConfig, token: string): Promise<AccessVerdict> {
  try {
    const { payload } = await jwtVerify(token, keysOf(config), {
      algorithms: ["RS256"],
      audience: config.aud,
      issuer: config.issuer,
      requiredClaims: ["exp"],
    });
    const actor = actorOf(payload);
    if (actor === null) {
      const message =
        "the Cf-Access-Jwt-Assertion names no email (nor service token), so no change could be attributed";
      return { ok: false, status: 401, code: "invalid_access_jwt", message, detail: message };
    }
    return { ok: true, actor };
  } catch (err) {
    // The answers never name the team domain: a caller without a valid token learns nothing
    // about where the operators sign in. The log line has the detail.
    if (err instanceof KeysUnavailable) {
      return {
        ok: false,
        status: 503,
        code: "access_keys_unavailable",
        message:
          "could not read the Cloudflare Access signing keys; retry (the operators' log line access_refused says why)",
        detail: `could not read the Access signing keys from ${config.certsUrl} (${err.message}); check ACCESS_TEAM_DOMAIN`,
      };
    }
    const reason = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      status: 401,
      code: "invalid_access_jwt",
      message: `the Cf-Access-Jwt-Assertion is not a valid token of this Access application (${reason}); sign in through Cloudflare Access again`,
      detail: `${reason} (issuer ${config.issuer})`,
    };
  }
}
