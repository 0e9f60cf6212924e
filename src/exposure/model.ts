/**
 * What the exposure ledger counts and where: the event key and the shard of a region. Its
 * vars are parsed with every other one (../platform/config.ts); the wire shapes are in
 * ./wire.ts, the control plane's reads in ../control/ledger/client.ts.
 */
export { isLedgerDecision, LEDGER_DECISIONS, type LedgerDecision } from "../policy/ledger-decisions";

import { IDENTITY_VALUE, INVALID_IDENTITY } from "./wire";

export type { LedgerTuple } from "./wire";

/** Fingerprint of requests without a bearer key. */
export const ANONYMOUS = "anonymous";
/** Fingerprint of keyed requests while `IDENTITY_SALT` is unset (the key cannot be hashed). */
export const UNFINGERPRINTED = "unfingerprinted";

/**
 * Fixed shard count. A region always maps to the same shard, so one hot region loads one
 * Durable Object and reads fan out to a known set. Changing it strands rows written under
 * the old mapping (reads would no longer visit them), so it is a constant, not a var.
 */
export const SHARDS = 16;

/** Shard index of a region code (FNV-1a, so the mapping is stable across isolates and deploys). */
export function shardOf(region: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < region.length; i++) {
    h ^= region.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

/** The shards a read must ask: the region's own one, or all of them without a region filter. */
export function shardsFor(region: string | undefined | null): number[] {
  return region ? [shardOf(region)] : Array.from({ length: SHARDS }, (_, i) => i);
}

/** Durable Object name of a shard. */
export const shardName = (shard: number) => `exposure-shard-${shard}`;

/** RPC stub of a shard: the gate's flushes and the control plane's reads (the namespace is typed by `wrangler types`). */
export function shardStub(env: Pick<Env, "EXPOSURE">, shard: number) {
  return env.EXPOSURE.get(env.EXPOSURE.idFromName(shardName(shard)));
}

/**
 * How long a shard remembers a batch id, so a retried flush is not counted twice. The
 * recorder gives up on a batch well before this, so it never re-sends a forgotten id.
 */
export const BATCH_MEMORY_MS = 60 * 60_000;

/**
 * Longest interval a shard asks of an isolate (and the longest an isolate honours). Without
 * a bound the interval fed itself: the caller window grows with the interval, so once new
 * isolates arrived faster than half the budget per second it grew without end and events
 * waited in isolate memory for ever (issue 20, finding 5). At the bound a shard no longer
 * holds its callers to the budget: past `budget × 60` callers it takes callers ÷ 60 calls a
 * second (docs/ledger.md, "Capacity model"), and an evicted isolate loses at most this
 * long of its events for that shard.
 */
export const MAX_FLUSH_AFTER_MS = 60_000;

let dayCache = { start: 0, end: 0, day: "" };

/** UTC day `YYYY-MM-DD` of an epoch-ms instant (memoised: it changes once a day, not per request). */
export function utcDay(ms: number): string {
  if (ms >= dayCache.start && ms < dayCache.end) return dayCache.day;
  const start = ms - (((ms % 86_400_000) + 86_400_000) % 86_400_000);
  dayCache = { start, end: start + 86_400_000, day: new Date(ms).toISOString().slice(0, 10) };
  return dayCache.day;
}

/** Fingerprint of keyed requests the ledger cannot attribute (SPEC section 6, "Who a customer is"). */
export const UNVERIFIED = "unverified";

/** Fingerprint and identity under which customers past `EXPOSURE_MAX_CUSTOMERS` are counted. */
export const OVERFLOW = "overflow";
export const OVERFLOW_IDENTITY = "{}";

/** Fingerprints that are buckets, not customers: never a notice, never counted by the cap. */
export const BUCKETS: readonly string[] = [ANONYMOUS, UNVERIFIED, OVERFLOW, UNFINGERPRINTED];
export const isBucket = (fingerprint: string) => BUCKETS.includes(fingerprint);

/** Distinct identities a fingerprint keeps per (day, code); further variants count under `{}`. */
export const MAX_IDENTITIES = 8;
export { IDENTITY_VALUE, INVALID_IDENTITY };

const sortedNames = new WeakMap<readonly string[], readonly string[]>();

/**
 * Canonical identity text of a verified request: JSON object of the present identity
 * headers, keys sorted, `{}` when none, e.g. `{"openai-organization":"org-1"}`. A value
 * outside 1–64 characters of `A–Z a–z 0–9 . _ : -` becomes `invalid`, so a stored identity
 * can never carry markup, a formula or a sentence into a notice.
 */
export function identityOf(headers: Headers, names: readonly string[]): string {
  if (names.length === 0) return "{}";
  let sorted = sortedNames.get(names);
  if (!sorted) {
    sorted = [...names].sort();
    sortedNames.set(names, sorted);
  }
  let out = "";
  for (const name of sorted) {
    const value = headers.get(name);
    if (value === null) continue;
    const kept = IDENTITY_VALUE.test(value) ? value : INVALID_IDENTITY;
    out += `${out ? "," : "{"}${JSON.stringify(name)}:${JSON.stringify(kept)}`;
  }
  return out ? `${out}}` : "{}";
}

/** Longest network name kept (SPEC section 6, "Networks"). */
export const NETWORK_NAME_MAX = 64;
/** Networks a row keeps by number; the rest are summed under `OTHER_NETWORK`. */
export const MAX_NETWORKS = 5;
/** The ASN under which a row's networks past the first five are summed (`other`). */
export const OTHER_NETWORK = 0;

/** `asOrganization` as a row keeps it: printable ASCII only (space to `~`), at most 64 characters. */
export function networkName(name: string | null | undefined): string {
  if (!name) return "";
  return name.replace(/[^\x20-\x7e]/g, "").slice(0, NETWORK_NAME_MAX);
}
