/**
 * How a flushed batch lands in a shard (SPEC section 6): who an event is attributed to,
 * the cap, the identity limit and the networks of each row. Plain SQL on a shard's
 * `SqlStorage`, run by the Durable Object inside one transaction per batch; the tests run
 * it on a real shard with any cap.
 */

import {
  isBucket,
  MAX_IDENTITIES,
  MAX_NETWORKS,
  OTHER_NETWORK,
  OVERFLOW,
  OVERFLOW_IDENTITY,
  UNVERIFIED,
} from "../../exposure/model";
import type { LedgerNetworkTuple, LedgerTuple } from "../../exposure/wire";
import { CUSTOMER } from "./ledger-sql";

/** Customers stored per "day code": the Durable Object keeps it across batches. */
export type CustomerCounts = Map<string, number>;

const EMPTY = "{}";

/**
 * Adds `tuples` to the shard. Verified tuples go first, so an unverified event of a key
 * verified in the same batch already counts under it. Returns the customer counts this
 * batch changed ("day code" → customers), for the caller to keep once the transaction
 * has committed; `known` holds the counts kept from earlier batches.
 *
 * - verified: counts under its fingerprint and records the (fingerprint, code, day) as verified;
 * - keyed, not verified: under its fingerprint when that fingerprint is verified for the
 *   code on any day kept, else under `unverified`; never with identity values;
 * - a fingerprint new to its (day, code) past `cap` customers goes to `overflow`, unless it
 *   was verified for that code on an earlier day;
 * - a ninth distinct identity of a fingerprint on a (day, code) counts under `{}`.
 */
export function applyTuples(
  sql: SqlStorage,
  tuples: readonly LedgerTuple[],
  cap: number,
  known: CustomerCounts,
): CustomerCounts {
  const changed: CustomerCounts = new Map();
  const ordered = [...tuples].sort((a, b) => (b[6] ?? 0) - (a[6] ?? 0));
  for (const t of ordered) {
    const [day, region, fp, id, decision, n] = t;
    const verified = t[6] === 1;
    let fingerprint = fp;
    let identity = verified ? id : EMPTY;
    if (isBucket(fingerprint))
      identity = EMPTY; // a bucket never carries identity values
    else if (verified) {
      sql.exec(
        "INSERT OR IGNORE INTO verified (fingerprint, region, day) VALUES (?, ?, ?)",
        fingerprint,
        region,
        day,
      );
    } else if (!isVerified(sql, fingerprint, region)) {
      fingerprint = UNVERIFIED;
    }
    if (!isBucket(fingerprint) && !hasRow(sql, day, region, fingerprint)) {
      const key = `${day} ${region}`;
      const stored = changed.get(key) ?? known.get(key) ?? customerCount(sql, day, region);
      if (stored < cap || verifiedBefore(sql, fingerprint, region, day)) changed.set(key, stored + 1);
      else {
        changed.set(key, stored);
        fingerprint = OVERFLOW;
        identity = OVERFLOW_IDENTITY;
      }
    }
    if (
      identity !== EMPTY &&
      !isBucket(fingerprint) &&
      !hasIdentity(sql, day, region, fingerprint, identity)
    ) {
      if (identityCount(sql, day, region, fingerprint) >= MAX_IDENTITIES) identity = EMPTY;
    }
    sql.exec(
      `INSERT INTO exposure (day, region, fingerprint, identity, decision, n) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET n = n + excluded.n`,
      day,
      region,
      fingerprint,
      identity,
      decision,
      n,
    );
    const networks = t[7];
    if (networks && networks.length > 0) addNetworks(sql, day, region, fingerprint, identity, networks);
  }
  return changed;
}

/** Whether any kept day holds a verified event of `fingerprint` for `region` (a key prefix seek). */
function isVerified(sql: SqlStorage, fingerprint: string, region: string): boolean {
  return (
    sql
      .exec("SELECT 1 FROM verified WHERE fingerprint = ? AND region = ? LIMIT 1", fingerprint, region)
      .toArray().length > 0
  );
}

/** Whether `fingerprint` was verified for `region` on a day before `day`: it keeps its row past the cap. */
function verifiedBefore(sql: SqlStorage, fingerprint: string, region: string, day: string): boolean {
  return (
    sql
      .exec(
        "SELECT 1 FROM verified WHERE fingerprint = ? AND region = ? AND day < ? LIMIT 1",
        fingerprint,
        region,
        day,
      )
      .toArray().length > 0
  );
}

function hasRow(sql: SqlStorage, day: string, region: string, fingerprint: string): boolean {
  return (
    sql
      .exec(
        "SELECT 1 FROM exposure WHERE day = ? AND region = ? AND fingerprint = ? LIMIT 1",
        day,
        region,
        fingerprint,
      )
      .toArray().length > 0
  );
}

function hasIdentity(sql: SqlStorage, day: string, region: string, fingerprint: string, identity: string) {
  return (
    sql
      .exec(
        "SELECT 1 FROM exposure WHERE day = ? AND region = ? AND fingerprint = ? AND identity = ? LIMIT 1",
        day,
        region,
        fingerprint,
        identity,
      )
      .toArray().length > 0
  );
}

function identityCount(sql: SqlStorage, day: string, region: string, fingerprint: string): number {
  return sql
    .exec<{ n: number }>(
      `SELECT COUNT(DISTINCT identity) AS n FROM exposure
       WHERE day = ? AND region = ? AND fingerprint = ? AND identity <> '${EMPTY}'`,
      day,
      region,
      fingerprint,
    )
    .one().n;
}

/** Distinct customers stored for (day, code): the buckets are not customers. */
export function customerCount(sql: SqlStorage, day: string, region: string): number {
  return sql
    .exec<{ n: number }>(
      `SELECT COUNT(DISTINCT fingerprint) AS n FROM exposure WHERE day = ? AND region = ? AND ${CUSTOMER}`,
      day,
      region,
    )
    .one().n;
}

/** Adds a row's networks: the first five by number, the rest summed under `other`. */
function addNetworks(
  sql: SqlStorage,
  day: string,
  region: string,
  fingerprint: string,
  identity: string,
  networks: readonly LedgerNetworkTuple[],
): void {
  for (const [asn, n, name, cls] of networks) {
    let target = asn;
    if (target !== OTHER_NETWORK) {
      const kept =
        sql
          .exec(
            "SELECT 1 FROM exposure_networks WHERE day = ? AND region = ? AND fingerprint = ? AND identity = ? AND asn = ?",
            day,
            region,
            fingerprint,
            identity,
            target,
          )
          .toArray().length > 0;
      if (!kept) {
        const count = sql
          .exec<{ n: number }>(
            "SELECT COUNT(*) AS n FROM exposure_networks WHERE day = ? AND region = ? AND fingerprint = ? AND identity = ? AND asn <> 0",
            day,
            region,
            fingerprint,
            identity,
          )
          .one().n;
        if (count >= MAX_NETWORKS) target = OTHER_NETWORK;
      }
    }
    const other = target === OTHER_NETWORK;
    sql.exec(
      `INSERT INTO exposure_networks (day, region, fingerprint, identity, asn, n, name, class) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET n = n + excluded.n,
         name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END,
         class = CASE WHEN excluded.class <> '' THEN excluded.class ELSE class END`,
      day,
      region,
      fingerprint,
      identity,
      target,
      n,
      other ? "" : name,
      other ? "" : cls,
    );
  }
}
