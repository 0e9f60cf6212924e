/**
 * What crosses the RPC boundary between the gate (recorder, admin route, dashboard,
 * notices) and the `ExposureLedger` Durable Object. Types only, plus the one list of
 * counted decisions and the identity alphabet (free of worker types so the CLI shares them).
 */
import type { LedgerDecision } from "../policy/ledger-decisions";

export { LEDGER_DECISIONS, type LedgerDecision } from "../policy/ledger-decisions";

/** What an identity value outside the alphabet (or empty, or too long) is recorded as. */
export const INVALID_IDENTITY = "invalid";
/** An identity value the ledger keeps: 1–64 of `A–Z a–z 0–9 . _ : -` (SPEC section 6). */
export const IDENTITY_VALUE = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The identity values of a row's stored identity text (canonical JSON of header → value,
 * written by the gate's recorder). The one place rows' identities are decoded: anything
 * that is not an object of strings, which the ledger never writes, reads as no identity.
 */
export function parseIdentity(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
    for (const [name, value] of Object.entries(parsed)) if (typeof value === "string") out[name] = value;
  }
  return out;
}

/**
 * One network of a batch tuple: `[asn, count, name, class]`. `asn` 0 is `other` (networks
 * past a row's first five); `name` is the network's `asOrganization` as kept (printable
 * ASCII, at most 64 characters), `class` the policy's class name, both `""` when unknown.
 */
export type LedgerNetworkTuple = [asn: number, n: number, name: string, cls: string];

/**
 * One counted event group, as sent to the Durable Object:
 * `[day, code, fingerprint, identity, decision, count, verified, networks]`.
 * `identity` is canonical JSON of the identity header values (keys sorted), `{}` when none
 * (always `{}` unless verified). `verified` is 1 when the origin accepted the requests
 * (SPEC section 6); a tuple without it (a gate of the previous release) counts as unverified.
 * `networks` lists the networks the events came through (events without an ASN are in none).
 */
export type LedgerTuple =
  | [string, string, string, string, LedgerDecision, number]
  | [string, string, string, string, LedgerDecision, number, 0 | 1, LedgerNetworkTuple[]];

/** Filters of a read; days are inclusive `YYYY-MM-DD`. */
export interface LedgerFilter {
  from: string;
  to: string;
  region?: string;
  decisions?: readonly LedgerDecision[];
}

/**
 * Position of a row in the read order, `[fingerprint, identity, region, day]`: rows are
 * read customer by customer, so a page boundary never splits what a notice needs to know
 * about one customer more than once.
 */
export type RowKey = [fingerprint: string, identity: string, region: string, day: string];

/** A network a row's events came through; `asn` 0 is `other`, the sum past the first five. */
export type LedgerNetwork = {
  asn: number;
  /** `asOrganization` as kept, `""` when unknown (and for `other`). */
  name: string;
  /** The policy's class of the network when the events were recorded, `""` when none. */
  class: string;
  requests: number;
};

/** One row per (fingerprint, identity, region, day), counts per decision. */
export interface LedgerGroup {
  day: string;
  region: string;
  fingerprint: string;
  /** Canonical identity JSON (see `identityOf`). */
  identity: string;
  decisions: Record<LedgerDecision, number>;
  /**
   * True when the ledger holds a verified event of this fingerprint for this code on a day
   * it keeps: the row belongs to a customer the origin accepted. False for the buckets and
   * for rows written before verification existed whose key was never verified since.
   */
  verified: boolean;
  /** Some customer's events went to `overflow` on this (day, code). */
  capped: boolean;
  /** The networks of this row (all decisions), most requests first, `other` last. */
  networks: LedgerNetwork[];
}

/** A (day, code) in which some customer's events went to `overflow`. */
export type LedgerCappedDay = { day: string; region: string };

/**
 * Per-region totals of one shard over a range. The three read rows are type aliases, not
 * interfaces, so the Durable Object can pass them to `sql.exec<T>` (which wants a record type).
 */
export type LedgerRegionSummary = {
  region: string;
  /** Distinct customers (fingerprints other than the buckets) over the whole range. */
  customers: number;
  requests: number;
  blocked: number;
  firstDay: string;
  lastDay: string;
  /** Days of the range on which the region was capped (some customer went to `overflow`). */
  cappedDays: number;
};

/** Per (region, day) totals: the series of the dashboard and the world map. */
export type LedgerRegionDay = {
  region: string;
  day: string;
  /** Distinct customers (fingerprints other than the buckets) that day. */
  customers: number;
  requests: number;
  blocked: number;
};

/** Per region: distinct verified customers (key fingerprints) over a range. */
export type LedgerVerifiedCustomers = {
  region: string;
  customers: number;
};

/** One of a region's busiest customers over a range. */
export type LedgerTopCustomer = {
  region: string;
  fingerprint: string;
  identity: string;
  requests: number;
  blocked: number;
  /** Days with traffic in the range. */
  days: number;
  lastDay: string;
};

/**
 * One of a region's busiest networks over a range (all customers and buckets, all
 * decisions): the dashboard's "Top networks". `asn` 0 is `other`, the sum past rows' first
 * five; `name` and `class` as kept (`""` when unknown or none).
 */
export type LedgerTopNetwork = {
  region: string;
  asn: number;
  name: string;
  class: string;
  requests: number;
};

/** What `stats()` reports for one shard. */
export interface ShardStats {
  rows: number;
  firstDay: string | null;
  lastDay: string | null;
  /** Batches applied in the last hour: the Durable Object calls the recorders made. */
  flushesLastHour: number;
  /** Distinct isolates that flushed here within the load window, and the interval asked of them. */
  callers: number;
  flushAfterMs: number;
  databaseBytes: number;
}

/** The answer to a flush. */
export interface RecordResult {
  /** False when the batch id had been applied before (a retried flush): nothing was added. */
  applied: boolean;
  /**
   * Wait at least this long before calling this shard again: the shard spreads the isolates
   * that call it so that together they stay within `EXPOSURE_SHARD_CALLS_PER_SECOND`.
   */
  flushAfterMs: number;
}
