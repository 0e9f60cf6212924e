/**
 * Dashboard sessions without server state: the cookie is `<id>.<expiry>.<mac>`, MACed
 * with a key derived from ADMIN_TOKEN. Rotating the token therefore signs everyone out,
 * and a forged, altered or expired cookie fails verification. The CSRF token of a session
 * is a MAC of its id under the same key, so it needs no storage either.
 *
 * Sign-out clears the cookie in the browser; a copied cookie stays valid until it expires
 * (at most `SESSION_SECONDS`) or the token is rotated. That is the price of statelessness,
 * accepted because KV is eventually consistent and a revocation list would lag anyway.
 */

import { base64url, fromBase64url } from "../../platform/base64url";

/** Cookie name; `__Secure-` makes browsers refuse it unless it is set with `Secure`. */
export const SESSION_COOKIE = "__Secure-rg-dashboard";
/** Sessions last this long from sign-in. */
export const SESSION_SECONDS = 8 * 3600;

export interface Session {
  id: string;
  /** Epoch seconds. */
  expires: number;
}

const encoder = new TextEncoder();
/**
 * The derived key, cached once it exists. A pending promise is never shared between
 * requests: workerd ties it to the request that created it (as in ../../platform/fingerprint.ts).
 */
let keyCache: { token: string; key: CryptoKey } | undefined;

/** The MAC key of sessions and CSRF tokens: HMAC-SHA256(ADMIN_TOKEN, purpose label). */
async function sessionKey(token: string): Promise<CryptoKey> {
  if (keyCache?.token === token) return keyCache.key;
  const outer = await crypto.subtle.importKey(
    "raw",
    encoder.encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const derived = await crypto.subtle.sign("HMAC", outer, encoder.encode("region-gate dashboard session v1"));
  const key = await crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  keyCache = { token, key };
  return key;
}

async function mac(token: string, text: string): Promise<ArrayBuffer> {
  return crypto.subtle.sign("HMAC", await sessionKey(token), encoder.encode(text));
}

/** Constant-time check of a base64url MAC against the expected bytes. */
function macMatches(given: string, expected: ArrayBuffer): boolean {
  const bytes = fromBase64url(given);
  // The length of a MAC is public (always 32 bytes); only its content must not leak.
  if (bytes === null || bytes.byteLength !== expected.byteLength) return false;
  // One spelling per MAC: the last of 43 characters carries 2 unused bits, so without this
  // four cookies would verify for each session. Compares the input with itself, not the MAC.
  if (base64url(bytes) !== given) return false;
  return crypto.subtle.timingSafeEqual(bytes, expected);
}

/** A new session for a signed-in operator, and its cookie value. */
export async function createSession(
  token: string,
  nowMs: number,
): Promise<{ session: Session; cookie: string }> {
  const id = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const expires = Math.floor(nowMs / 1000) + SESSION_SECONDS;
  const payload = `${id}.${expires}`;
  return { session: { id, expires }, cookie: `${payload}.${base64url(await mac(token, `s1.${payload}`))}` };
}

/** The session of a cookie value, or null when it is malformed, forged or expired. */
export async function readSession(
  token: string,
  cookie: string | undefined,
  nowMs: number,
): Promise<Session | null> {
  if (!cookie) return null;
  const m = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!m) return null;
  const [, id, exp, sig] = m as unknown as [string, string, string, string];
  if (!macMatches(sig, await mac(token, `s1.${id}.${exp}`))) return null;
  const expires = Number(exp);
  return expires * 1000 > nowMs ? { id, expires } : null;
}

/** The CSRF token of a session, carried by every state-changing form. */
export async function csrfToken(token: string, session: Session): Promise<string> {
  return base64url(await mac(token, `csrf.${session.id}`));
}

/** Constant-time check of a submitted CSRF token. */
export async function csrfValid(token: string, session: Session, given: unknown): Promise<boolean> {
  return typeof given === "string" && macMatches(given, await mac(token, `csrf.${session.id}`));
}
