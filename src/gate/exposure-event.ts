/**
 * The gate's side of counting (SPEC section 6): one plain exposure event from a request's
 * facts, its decision and what the origin answered. The recorder takes the event as it is;
 * it never reads the request, the policy or the config again.
 */
import { identityOf, networkName } from "../exposure/model";
import type { CompiledPolicy } from "../policy/compile";
import type { Verdict } from "../policy/decision";
import { bearerOf, type Facts } from "../policy/facts";
import type { LedgerDecision } from "../policy/ledger-decisions";
import type { ExposureEvent } from "./recorder";

/**
 * Whether the origin accepted a request: it answered, below 500, and not 401 or 403
 * (its own refusal of the key). `null`: the gate answered itself (a block), unverified.
 */
export function acceptedByOrigin(status: number | null): boolean {
  return status !== null && status < 500 && status !== 401 && status !== 403;
}

/**
 * The event of a counted request. `status` is the origin's answer (null when the gate
 * blocked it); identity values are read only for a verified event, so a client's claims
 * never reach the ledger unless the origin accepted its key.
 */
export function exposureEventOf(
  policy: CompiledPolicy,
  facts: Facts,
  verdict: Verdict,
  decision: LedgerDecision,
  fingerprint: string | null,
  status: number | null,
  at: number,
): ExposureEvent {
  const key = fingerprint === null ? bearerOf(facts) : null;
  const verified = (fingerprint !== null || key !== null) && acceptedByOrigin(status);
  const asn = facts.asn;
  return {
    at,
    code: verdict.region ?? verdict.country ?? "XX",
    decision,
    fingerprint,
    key,
    verified,
    identity: verified ? identityOf(facts.headers, policy.identityHeaders) : "{}",
    network:
      asn === null
        ? null
        : { asn, name: networkName(facts.asOrganization), class: policy.asnClass.get(asn) ?? "" },
  };
}
