/**
 * The exposure ledger's SQLite side: its schema, the in-place upgrade of a shard written by
 * an earlier release, and the read queries, as functions of a shard's `SqlStorage`. The
 * Durable Object (./ledger-do.ts) owns pacing and retention; the writes are in
 * ./ledger-write.ts.
 */
import { BUCKETS, OTHER_NETWORK, OVERFLOW } from "../../exposure/model";
import {
  LEDGER_DECISIONS,
  type LedgerCappedDay,
  type LedgerDecision,
  type LedgerFilter,
  type LedgerGroup,
  type LedgerNetwork,
  type LedgerRegionDay,
  type LedgerRegionSummary,
  type LedgerTopCustomer,
  type LedgerTopNetwork,
  type LedgerVerifiedCustomers,
  type RowKey,
} from "../../exposure/wire";

/** The schema version this code writes (`ledger_meta.schema`). */
export const SCHEMA_VERSION = 2;

/**
 * Schema 1, as the first release created it (every statement idempotent). Kept verbatim:
 * a shard that release wrote has exactly these tables, and `migrate` starts from them.
 */
export const SCHEMA_V1 = `
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
// It holds no count, so an upsert of a known row touches only the table.

/**
 * Schema 2 adds three tables and changes none: `verified` (the days on which the origin
 * accepted a fingerprint's requests for a code: what attribution and the cap's exception
 * read), `exposure_networks` (each row's networks) and `ledger_meta` (the version). Adding
 * tables rewrites no row, so the upgrade is instant at any size.
 */
const SCHEMA_V2 = `
CREATE TABLE IF NOT EXISTS verified (
  fingerprint TEXT NOT NULL,
  region TEXT NOT NULL,
  day TEXT NOT NULL,
  PRIMARY KEY (fingerprint, region, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exposure_networks (
  day TEXT NOT NULL,
  region TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  identity TEXT NOT NULL,
  asn INTEGER NOT NULL,
  n INTEGER NOT NULL,
  name TEXT NOT NULL,
  class TEXT NOT NULL,
  PRIMARY KEY (day, region, fingerprint, identity, asn)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS exposure_networks_customer ON exposure_networks (fingerprint, identity, region, day);
CREATE TABLE IF NOT EXISTS ledger_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/**
 * Brings a shard's tables to `SCHEMA_VERSION`, in place, on every object start. Returns
 * the version found (0: a new shard, 1: written by the first release) so the caller can
 * log an upgrade. Rows written under schema 1 stay as they are: their keyed rows have no
 * `verified` day, so they make no notice until that key is verified for that code
 * (docs/ledger.md, "Rows written before verification").
 */
export function migrate(sql: SqlStorage, now: number): number {
  const found = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('exposure', 'ledger_meta')",
    )
    .toArray()
    .map((r) => r.name);
  let from = 0;
  if (found.includes("ledger_meta")) {
    const row = sql
      .exec<{ value: string }>("SELECT value FROM ledger_meta WHERE key = 'schema'")
      .toArray()[0];
    from = row ? Number(row.value) : 1;
  } else if (found.includes("exposure")) from = 1;
  if (from >= SCHEMA_VERSION) return from;
  sql.exec(SCHEMA_V1);
  sql.exec(SCHEMA_V2);
  sql.exec(
    "INSERT OR REPLACE INTO ledger_meta (key, value) VALUES ('schema', ?), ('upgraded_from', ?), ('upgraded_at', ?)",
    String(SCHEMA_VERSION),
    String(from),
    new Date(now).toISOString(),
  );
  return from;
}

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

/** A fingerprint that is a customer, not a bucket: what the cap and `customers` count. */
export const CUSTOMER = `fingerprint NOT IN (${BUCKETS.map((b) => `'${b}'`).join(", ")})`;

/** Per grouped row: verified for its code on a kept day, and whether its (day, code) was capped. */
const FLAGS = `EXISTS (SELECT 1 FROM verified v WHERE v.fingerprint = e.fingerprint AND v.region = e.region) AS verified,
  EXISTS (SELECT 1 FROM exposure o WHERE o.day = e.day AND o.region = e.region AND o.fingerprint = '${OVERFLOW}') AS capped`;

/**
 * A row of a verified customer (SPEC section 6): a key fingerprint, not a bucket, that the
 * origin accepted for the row's code on a day the ledger keeps (the `verified` table; rows
 * written before verification existed have none until the key is accepted again). The one
 * place that says which rows make a verified customer; it reads the `exposure` table's own
 * columns, so it is used where that table is not aliased.
 */
export const VERIFIED_CUSTOMER = `${CUSTOMER} AND EXISTS (SELECT 1 FROM verified v
  WHERE v.fingerprint = exposure.fingerprint AND v.region = exposure.region)`;

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
  const out = groups(
    sql,
    `SELECT day, region, fingerprint, identity, ${PIVOT}, ${FLAGS} FROM exposure e WHERE ${w.sql}
     GROUP BY fingerprint, identity, region, day ORDER BY fingerprint, identity, region, day LIMIT ?`,
    [...w.args, Math.max(1, Math.floor(limit))],
  );
  const first = out[0];
  const last = out[out.length - 1];
  if (first && last) {
    attachNetworks(
      sql,
      out,
      `(fingerprint, identity, region, day) >= (?, ?, ?, ?) AND (fingerprint, identity, region, day) <= (?, ?, ?, ?)`,
      [
        first.fingerprint,
        first.identity,
        first.region,
        first.day,
        last.fingerprint,
        last.identity,
        last.region,
        last.day,
      ],
      filter,
    );
  }
  return out;
}

/** Every row of one fingerprint in the filter (an index range: the customer's own view). */
export function readFingerprint(sql: SqlStorage, fingerprint: string, filter: LedgerFilter): LedgerGroup[] {
  const w = where(filter);
  const out = groups(
    sql,
    `SELECT day, region, fingerprint, identity, ${PIVOT}, ${FLAGS} FROM exposure e WHERE fingerprint = ? AND ${w.sql}
     GROUP BY fingerprint, identity, region, day ORDER BY fingerprint, identity, region, day`,
    [fingerprint, ...w.args],
  );
  if (out.length > 0) attachNetworks(sql, out, "fingerprint = ?", [fingerprint], filter);
  return out;
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
      verified: Number(r.verified) === 1,
      capped: Number(r.capped) === 1,
      networks: [],
    });
  }
  return out;
}

const groupKey = (g: { fingerprint: string; identity: string; region: string; day: string }) =>
  `${g.fingerprint}\u0000${g.identity}\u0000${g.region}\u0000${g.day}`;

/**
 * Reads the networks of `rows` (one range of `exposure_networks_customer` that covers them)
 * and attaches them, most requests first and `other` last. Networks are kept per row, not
 * per decision, so a decision filter does not narrow them.
 */
function attachNetworks(
  sql: SqlStorage,
  rows: LedgerGroup[],
  range: string,
  rangeArgs: (string | number)[],
  filter: LedgerFilter,
): void {
  const byKey = new Map(rows.map((g) => [groupKey(g), g]));
  let cond = `${range} AND day >= ? AND day <= ?`;
  const args = [...rangeArgs, filter.from, filter.to];
  if (filter.region) {
    cond += " AND region = ?";
    args.push(filter.region);
  }
  for (const r of sql.exec<{
    day: string;
    region: string;
    fingerprint: string;
    identity: string;
    asn: number;
    n: number;
    name: string;
    class: string;
  }>(
    `SELECT day, region, fingerprint, identity, asn, n, name, class FROM exposure_networks WHERE ${cond}`,
    ...args,
  )) {
    const g = byKey.get(groupKey(r));
    if (g) g.networks.push({ asn: r.asn, name: r.name, class: r.class, requests: r.n });
  }
  for (const g of rows) g.networks.sort(networkOrder);
}

/** Most requests first, then by number; `other` always last. */
export function networkOrder(a: LedgerNetwork, b: LedgerNetwork): number {
  if ((a.asn === OTHER_NETWORK) !== (b.asn === OTHER_NETWORK)) return a.asn === OTHER_NETWORK ? 1 : -1;
  return b.requests - a.requests || a.asn - b.asn;
}

/** The (day, code) pairs of the filter in which some customer went to `overflow`. */
export function readCapped(sql: SqlStorage, filter: LedgerFilter): LedgerCappedDay[] {
  const w = where({ from: filter.from, to: filter.to, region: filter.region });
  return sql
    .exec<LedgerCappedDay>(
      `SELECT DISTINCT day, region FROM exposure WHERE fingerprint = '${OVERFLOW}' AND ${w.sql} ORDER BY region, day`,
      ...w.args,
    )
    .toArray();
}

/** Per (region, day) requests and distinct customers: the dashboard's series and map. */
export function readRegionDays(sql: SqlStorage, filter: LedgerFilter): LedgerRegionDay[] {
  const w = where(filter);
  return sql
    .exec<LedgerRegionDay>(
      `SELECT region, day, COUNT(DISTINCT CASE WHEN ${CUSTOMER} THEN fingerprint END) AS customers, SUM(n) AS requests,
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

/**
 * The `n` busiest networks (most requests) of each region in the filter, `other` ranked
 * last: one scan of the day range of `exposure_networks` (its key starts with the day).
 * Networks are kept per row, not per decision, so a decision filter does not narrow them.
 * A network's name and class are the greatest kept over the range (they differ only when
 * the network's `asOrganization` or the policy's classes changed within it).
 */
export function readTopNetworks(sql: SqlStorage, filter: LedgerFilter, n: number): LedgerTopNetwork[] {
  const w = where({ from: filter.from, to: filter.to, region: filter.region });
  return sql
    .exec<LedgerTopNetwork>(
      `SELECT region, asn, name, class, requests FROM (
         SELECT region, asn, MAX(name) AS name, MAX(class) AS class, SUM(n) AS requests,
           ROW_NUMBER() OVER (PARTITION BY region ORDER BY asn = ${OTHER_NETWORK}, SUM(n) DESC, asn) AS rk
         FROM exposure_networks WHERE ${w.sql} GROUP BY region, asn)
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

/** Per-region totals; a customer is a fingerprint other than the buckets. */
export function readSummary(sql: SqlStorage, filter: LedgerFilter): LedgerRegionSummary[] {
  const w = where(filter);
  return sql
    .exec<LedgerRegionSummary>(
      `SELECT region, COUNT(DISTINCT CASE WHEN ${CUSTOMER} THEN fingerprint END) AS customers, SUM(n) AS requests,
       SUM(CASE decision WHEN 'block' THEN n ELSE 0 END) AS blocked, MIN(day) AS firstDay, MAX(day) AS lastDay,
       COUNT(DISTINCT CASE WHEN fingerprint = '${OVERFLOW}' THEN day END) AS cappedDays
       FROM exposure WHERE ${w.sql} GROUP BY region ORDER BY region`,
      ...w.args,
    )
    .toArray();
}
