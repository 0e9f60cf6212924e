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
  | { ok: false; status: 401 | 503; code: "invalid_access_jwt" | "access_keys_unavailable"; message: string };

/**
 * The team's key set, one per certs URL. jose keeps the fetched keys for 10 minutes and
 * refetches at most every 30 s when a token names an unknown `kid` (a key rotation). What
 * outlives a request is the resolved key set only: on Workers jose never hands one request's
 * pending fetch to another (it starts its own), because workerd ties a pending promise to
 * the request that created it (the same rule as the cached keys of ./auth.ts).
 */
let keySet: { certsUrl: string; remote: JWTVerifyGetKey } | undefined;

/** The certs endpoint could not be read: the gate cannot tell a good token from a bad one. */
class KeysUnavailable extends Error {}

function keysOf(config: AccessConfig): JWTVerifyGetKey {
  if (keySet?.certsUrl !== config.certsUrl) {
    keySet = { certsUrl: config.certsUrl, remote: createRemoteJWKSet(new URL(config.certsUrl)) };
  }
  const { remote } = keySet;
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      // No key for the token's kid is the token's fault; anything else is the fetch's.
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw err;
      throw new KeysUnavailable(err instanceof Error ? err.message : String(err));
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
      return {
        ok: false,
        status: 401,
        code: "invalid_access_jwt",
        message:
          "the Cf-Access-Jwt-Assertion names no email (nor service token), so no change could be attributed",
      };
    }
    return { ok: true, actor };
  } catch (err) {
    if (err instanceof KeysUnavailable) {
      return {
        ok: false,
        status: 503,
        code: "access_keys_unavailable",
        message: `could not read the Access signing keys from ${config.certsUrl} (${err.message}); check ACCESS_TEAM_DOMAIN and retry`,
      };
    }
    const reason = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      status: 401,
      code: "invalid_access_jwt",
      message: `the Cf-Access-Jwt-Assertion is not a valid token of this Access application (${reason}); sign in through Cloudflare Access (${config.issuer}) again`,
    };
  }
}
