/**
 * What the gate knows about a request, read once: the edge's facts (`request.cf`, never a
 * client header), the client address Cloudflare vouches for, and, only when a key
 * exemption could change the decision, the bearer key's fingerprint. `judge()` is the one
 * decision pass the gate and the self-check page share.
 */

import { bearerToken, fingerprint, saltMissing } from "../platform/fingerprint";
import { isAsn } from "./asn";
import type { CompiledPolicy } from "./compile";
import { decide, type RequestFacts, type Verdict } from "./decision";
import { isLedgerDecision } from "./ledger-decisions";

export interface Facts extends RequestFacts {
  path: string;
  country: string | null;
  regionCode: string | null;
  /** `request.cf.asn`: the network the request came through (an integer 1..4294967295), or null. */
  asn: number | null;
  /** `request.cf.asOrganization`: that network's name, as the edge gives it (not cleaned here). */
  asOrganization: string | null;
  /** `CF-Connecting-IP`: set by Cloudflare's edge, a client cannot choose it. */
  ip: string | null;
  /** The request's headers: the bearer key and identity headers are read from them only when needed. */
  headers: Headers;
  /** The bearer key: undefined until read, null when there is none. */
  token?: string | null;
}

/** The facts of `request` judged at `path` (the request's own path, or the one a self-check asks about). */
export function factsOf(request: Request, path: string): Facts {
  const cf = request.cf;
  const headers = request.headers;
  return {
    path,
    country: typeof cf?.country === "string" ? cf.country : null,
    regionCode: typeof cf?.regionCode === "string" ? cf.regionCode : null,
    asn: isAsn(cf?.asn) ? cf.asn : null,
    asOrganization: typeof cf?.asOrganization === "string" ? cf.asOrganization : null,
    ip: headers.get("cf-connecting-ip"),
    headers,
  };
}

/** The request's bearer key (read from `Authorization` once), or null. */
export function bearerOf(facts: Facts): string | null {
  if (facts.token === undefined) facts.token = bearerToken(facts.headers.get("authorization"));
  return facts.token;
}

/** Fingerprint of the request's bearer key, or null without a key (or without a salt, logged once). */
export async function keyFingerprint(facts: Facts, salt: string | undefined): Promise<string | null> {
  const token = bearerOf(facts);
  if (token === null) return null;
  if (!salt) {
    saltMissing();
    return null;
  }
  return fingerprint(salt, token);
}

/** A decision, and the key's fingerprint when making it needed one (null otherwise). */
export interface Judged {
  verdict: Verdict;
  fingerprint: string | null;
}

/**
 * The decision of SPEC section 3 for these facts. Only a request the ledger would count (an
 * unsupported region, not exempt by address) pays for the key's HMAC, and only while the
 * policy has key exemptions: then it is decided again with the fingerprint, which is
 * returned beside the verdict so the caller need not make it twice.
 */
export async function judge(
  policy: CompiledPolicy,
  facts: Facts,
  salt: string | undefined,
  now: number,
): Promise<Judged> {
  const verdict = decide(policy, facts, now);
  if (!isLedgerDecision(verdict.decision) || policy.keyExemptions.size === 0)
    return { verdict, fingerprint: null };
  const fingerprint = await keyFingerprint(facts, salt);
  return fingerprint
    ? { verdict: decide(policy, { ...facts, fingerprint }, now), fingerprint }
    : { verdict, fingerprint };
}
