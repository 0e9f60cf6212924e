/**
 * The exposure ledger's SQLite side: its schema and its read queries, as functions of a
 * shard's `SqlStorage`. The Durable Object (./ledger-do.ts) owns the writes, the cap, the
 * pacing and retention, and answers reads through these.
 */
import { ANONYMOUS, OVERFLOW } from "../../exposure/model";
import {
  LEDGER_DECISIONS,
  type LedgerDecision,
  type LedgerFilter,
  type LedgerGroup,
  type LedgerRegionDay,
  type LedgerRegionSummary,
  type LedgerTopCustomer,
  type LedgerVerifiedCustomers,
  type RowKey,
} from "../../exposure/wire";

/** Created on every object start: each statement is idempotent (IF NOT EXISTS). */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS exposure (
  day TEXT NOT NULL,
  region TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  identity TEXT NOT NULL,
  decision TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (day, region, fingerprint, identity, decision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_at ON batches (at);
CREATE INDEX IF NOT EXISTS exposure_customer ON exposure (fingerprint, identity, region, day);
`;
// exposure_customer serves the read order (customer by customer) and per-fingerprint reads.
// It holds no count, so an upsert of a known row touches only the table; a new row writes
// one index entry too. Added in place by CREATE INDEX IF NOT EXISTS: rows written before
// it stay readable, no migration step.

const PIVOT = LEDGER_DECISIONS.map((d) => `SUM(CASE decision WHEN '${d}' THEN n ELSE 0 END) AS ${d}`).join(
  ", ",
);

function where(filter: LedgerFilter): { sql: string; args: (string | number)[] } {
  let sql = "day >= ? AND day <= ?";
  const args: (string | number)[] = [filter.from, filter.to];
  if (filter.region) {
    sql += " AND region = ?";
    args.push(filter.region);
  }
  if (filter.decisions && filter.decisions.length > 0) {
    sql += ` AND decision IN (${filter.decisions.map(() => "?").join(", ")})`;
    args.push(...filter.decisions);
  }
  return { sql, args };
}

/** A (fingerprint, identity) pair other than the overflow bucket: what the cap counts. */
export const CUSTOMER = `fingerprint <> '${OVERFLOW}'`;

/**
 * A row of a customer the dashboard's Overview counts as verified: one named by a key
 * fingerprint, not `anonymous` (no key) or `overflow` (past the cap). The one place that
 * says which rows make a verified customer.
 */
export const VERIFIED_CUSTOMER = `fingerprint NOT IN ('${ANONYMOUS}', '${OVERFLOW}')`;

/**
 * Up to `limit` rows after `after` in the read order (fingerprint, identity, region, day):
 * one page of `GET /exposure`. The caller merges the shards' pages.
 */
export function readPage(
  sql: SqlStorage,
  filter: LedgerFilter,
  after: RowKey | null,
  limit: number,
): LedgerGroup[] {
  const w = where(filter);
  if (after) {
    w.sql += " AND (fingerprint, identity, region, day) > (?, ?, ?, ?)";
    w.args.push(...after);
  }
  return groups(
    sql,
    `SELECT day, region, fingerprint, identity, ${PIVOT} FROM exposure WHERE ${w.sql}
     GROUP BY fingerprint, identity, region, day ORDER BY fingerprint, identity, region, day LIMIT ?`,
    [...w.args, Math.max(1, Math.floor(limit))],
  );
}

/** Every row of one fingerprint in the filter (an index range: the customer's own view). */
export function readFingerprint(sql: SqlStorage, fingerprint: string, filter: LedgerFilter): LedgerGroup[] {
  const w = where(filter);
  return groups(
    sql,
    `SELECT day, region, fingerprint, identity, ${PIVOT} FROM exposure WHERE fingerprint = ? AND ${w.sql}
     GROUP BY fingerprint, identity, region, day ORDER BY fingerprint, identity, region, day`,
    [fingerprint, ...w.args],
  );
}

function groups(sql: SqlStorage, query: string, args: (string | number)[]): LedgerGroup[] {
  const out: LedgerGroup[] = [];
  for (const r of sql.exec<Record<string, string | number>>(query, ...args)) {
    const decisions = {} as Record<LedgerDecision, number>;
    for (const d of LEDGER_DECISIONS) decisions[d] = Number(r[d]);
    out.push({
      day: String(r.day),
      region: String(r.region),
      fingerprint: String(r.fingerprint),
      identity: String(r.identity),
      decisions,
    });
  }
  return out;
}

/** Per (region, day) requests and distinct customers: the dashboard's series and map. */
export function readRegionDays(sql: SqlStorage, filter: LedgerFilter): LedgerRegionDay[] {
  const w = where(filter);
  return sql
    .exec<LedgerRegionDay>(
      `SELECT region, day, COUNT(DISTINCT CASE WHEN ${CUSTOMER} THEN fingerprint || ' ' || identity END) AS customers, SUM(n) AS requests,
       SUM(CASE decision WHEN 'block' THEN n ELSE 0 END) AS blocked
       FROM exposure WHERE ${w.sql} GROUP BY day, region ORDER BY region, day`,
      ...w.args,
    )
    .toArray();
}

/** The `n` busiest customers (most requests) of each region in the filter. */
export function readTop(sql: SqlStorage, filter: LedgerFilter, n: number): LedgerTopCustomer[] {
  const w = where(filter);
  return sql
    .exec<LedgerTopCustomer>(
      `SELECT region, fingerprint, identity, requests, blocked, days, lastDay FROM (
         SELECT region, fingerprint, identity, SUM(n) AS requests,
           SUM(CASE decision WHEN 'block' THEN n ELSE 0 END) AS blocked,
           COUNT(DISTINCT day) AS days, MAX(day) AS lastDay,
           ROW_NUMBER() OVER (PARTITION BY region ORDER BY SUM(n) DESC, fingerprint, identity) AS rk
         FROM exposure WHERE ${w.sql} GROUP BY region, fingerprint, identity)
       WHERE rk <= ? ORDER BY region, rk`,
      ...w.args,
      Math.max(1, Math.floor(n)),
    )
    .toArray();
}

/** Per region, the distinct key fingerprints of verified customers (VERIFIED_CUSTOMER rows). */
export function readVerifiedCustomers(sql: SqlStorage, filter: LedgerFilter): LedgerVerifiedCustomers[] {
  const w = where(filter);
  return sql
    .exec<LedgerVerifiedCustomers>(
      `SELECT region, COUNT(DISTINCT fingerprint) AS customers FROM exposure
       WHERE ${w.sql} AND ${VERIFIED_CUSTOMER} GROUP BY region ORDER BY region`,
      ...w.args,
    )
    .toArray();
}

/** Per-region totals; a customer is a distinct (fingerprint, identity). */
export function readSummary(sql: SqlStorage, filter: LedgerFilter): LedgerRegionSummary[] {
  const w = where(filter);
  return sql
    .exec<LedgerRegionSummary>(
      `SELECT region, COUNT(DISTINCT CASE WHEN ${CUSTOMER} THEN fingerprint || ' ' || identity END) AS customers, SUM(n) AS requests,
       SUM(CASE decision WHEN 'block' THEN n ELSE 0 END) AS blocked, MIN(day) AS firstDay, MAX(day) AS lastDay
       FROM exposure WHERE ${w.sql} GROUP BY region ORDER BY region`,
      ...w.args,
    )
    .toArray();
}
