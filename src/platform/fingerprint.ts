/**
 * API keys become fingerprints: the first 16 hex characters of
 * HMAC-SHA256(IDENTITY_SALT, key). The raw key never leaves the request.
 */
import { log } from "./log";

let warnedNoSalt = false;

/**
 * Logs, once per isolate, that `IDENTITY_SALT` is unset, with what it turns off and how to
 * fix it: every place that would fingerprint a key calls it instead.
 */
export function saltMissing(): void {
  if (warnedNoSalt) return;
  warnedNoSalt = true;
  log("warn", "identity_salt_missing", {
    fix: "set the IDENTITY_SALT secret on both Workers (wrangler secret put IDENTITY_SALT, the same value); until then key exemptions match no key and the ledger counts keyed requests as 'unfingerprinted'",
  });
}

/**
 * The imported key, cached once it exists. A pending promise is never shared between
 * requests: workerd ties it to the request that created it.
 */
let keyCache: { salt: string; key: CryptoKey } | undefined;

async function hmacKey(salt: string): Promise<CryptoKey> {
  if (keyCache?.salt === salt) return keyCache.key;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(salt),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  keyCache = { salt, key };
  return key;
}

/** Fingerprint of `secret` under `salt`, e.g. `fingerprint("s", "sk-test")` → `"3f2a…"` (16 hex). */
export async function fingerprint(salt: string, secret: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(salt), new TextEncoder().encode(secret));
  let hex = "";
  for (const byte of new Uint8Array(mac, 0, 8)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** The bearer token of an `Authorization` header, or null. */
export function bearerToken(authorization: string | null): string | null {
  if (!authorization) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m ? m[1]! : null;
}
