/**
 * What the exposure ledger counts and where: the event key and the shard of a region. Its
 * vars are parsed with every other one (../platform/config.ts); the wire shapes are in
 * ./wire.ts, the control plane's reads in ../control/ledger/client.ts.
 */
export { isLedgerDecision, LEDGER_DECISIONS, type LedgerDecision } from "../policy/ledger-decisions";
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

let dayCache = { start: 0, end: 0, day: "" };

/** UTC day `YYYY-MM-DD` of an epoch-ms instant (memoised: it changes once a day, not per request). */
export function utcDay(ms: number): string {
  if (ms >= dayCache.start && ms < dayCache.end) return dayCache.day;
  const start = ms - (((ms % 86_400_000) + 86_400_000) % 86_400_000);
  dayCache = { start, end: start + 86_400_000, day: new Date(ms).toISOString().slice(0, 10) };
  return dayCache.day;
}

/** Header values longer than this are cut, so a client cannot inflate rows with huge headers. */
export const IDENTITY_VALUE_MAX = 200;
/** What an identity value with characters outside visible ASCII and space is recorded as. */
export const INVALID_IDENTITY = "invalid";
const NOT_VISIBLE_ASCII = /[^\x20-\x7e]/;

/** Fingerprint and identity under which the pairs past `EXPOSURE_MAX_CUSTOMERS` are counted. */
export const OVERFLOW = "overflow";
export const OVERFLOW_IDENTITY = "{}";

const sortedNames = new WeakMap<readonly string[], readonly string[]>();

/**
 * Canonical identity text of a request: JSON object of the present identity headers, keys
 * sorted, `{}` when none, e.g. `{"openai-organization":"org-1"}`. A value is cut to 200
 * characters; one with a character outside visible ASCII and space (control characters,
 * non-ASCII) becomes `invalid`, so stored identities are always plain printable text.
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
    const kept = NOT_VISIBLE_ASCII.test(value) ? INVALID_IDENTITY : value.slice(0, IDENTITY_VALUE_MAX);
    out += `${out ? "," : "{"}${JSON.stringify(name)}:${JSON.stringify(kept)}`;
  }
  return out ? `${out}}` : "{}";
}
