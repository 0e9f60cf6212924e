/**
 * What crosses the RPC boundary between the gate (recorder, admin route, dashboard,
 * notices) and the `ExposureLedger` Durable Object. Types only, plus the one list of
 * counted decisions (./decisions.ts, free of worker types so the CLI shares it).
 */
import type { LedgerDecision } from "../policy/ledger-decisions";

export { LEDGER_DECISIONS, type LedgerDecision } from "../policy/ledger-decisions";

/**
 * One counted event group, as sent to the Durable Object:
 * `[day, region, fingerprint, identity, decision, count]`.
 * `identity` is canonical JSON of the identity header values (keys sorted), `{}` when none.
 */
export type LedgerTuple = [string, string, string, string, LedgerDecision, number];

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

/** One row per (fingerprint, identity, region, day), counts per decision. */
export interface LedgerGroup {
  day: string;
  region: string;
  fingerprint: string;
  /** Canonical identity JSON (see `identityOf`). */
  identity: string;
  decisions: Record<LedgerDecision, number>;
}

/**
 * Per-region totals of one shard over a range. The three read rows are type aliases, not
 * interfaces, so the Durable Object can pass them to `sql.exec<T>` (which wants a record type).
 */
export type LedgerRegionSummary = {
  region: string;
  /** Distinct (fingerprint, identity) pairs over the whole range. */
  customers: number;
  requests: number;
  blocked: number;
  firstDay: string;
  lastDay: string;
};

/** Per (region, day) totals: the series of the dashboard and the world map. */
export type LedgerRegionDay = {
  region: string;
  day: string;
  /** Distinct (fingerprint, identity) pairs that day. */
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
