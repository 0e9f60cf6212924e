/**
 * The gate's side of the ledger's reads: typed shard stubs and one fan-out per kind of
 * read, shared by `GET /__region-gate/exposure`, the dashboard and the notices. Which
 * shards each read touches is part of its contract (docs/ledger.md, "Reading it").
 */

import { SHARDS, shardStub, shardsFor } from "../../exposure/model";
import type {
  LedgerCappedDay,
  LedgerFilter,
  LedgerGroup,
  LedgerRegionDay,
  LedgerRegionSummary,
  LedgerTopCustomer,
  LedgerTopNetwork,
  LedgerVerifiedCustomers,
  RowKey,
  ShardStats,
} from "../../exposure/wire";
import type { ControlEnv } from "../../platform/config";
import {
  compareKeys,
  compareText,
  DEFAULT_PAGE_ROWS,
  decodeCursor,
  type ExposureRow,
  encodeCursor,
  keyOf,
  MAX_PAGE_ROWS,
  toRow,
} from "./report";

/** One call per shard, in parallel; any failure fails the read (never a partial list). */
function fanOut<T>(
  env: ControlEnv,
  shards: readonly number[],
  read: (stub: ReturnType<typeof shardStub>) => Promise<T>,
) {
  return Promise.all(shards.map((s) => read(shardStub(env, s))));
}

/** A page of rows in the read order, and the cursor of the next page (null: this was the last). */
export interface ExposurePage {
  rows: ExposureRow[];
  next: string | null;
}

/**
 * Up to `limit` row groups after `after` in the read order (fingerprint, identity, region,
 * day), and whether more follow. Touches every shard, or the region's one with
 * `filter.region`; each shard reads at most `limit + 1` rows from `after` on.
 */
export async function readGroupPage(
  env: ControlEnv,
  filter: LedgerFilter,
  after: RowKey | null,
  limit: number,
): Promise<{ groups: LedgerGroup[]; more: boolean }> {
  const n = Math.min(MAX_PAGE_ROWS, Math.max(1, Math.floor(limit)));
  const parts = await fanOut(env, shardsFor(filter.region), (s) => s.page(filter, after, n + 1));
  // A (fingerprint, identity, region, day) lives in one shard, so the merge never meets a key twice.
  const merged = parts.flat().sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
  return { groups: merged.slice(0, n), more: merged.length > n };
}

/**
 * One page of report rows after `cursor` (the previous page's `next`, with the same
 * filter): `GET /exposure`'s read. Throws a RangeError for a cursor this ledger did not
 * hand out (the route checks it first and answers 400).
 */
export async function readExposure(
  env: ControlEnv,
  filter: LedgerFilter,
  page: { limit?: number; cursor?: string | null } = {},
): Promise<ExposurePage> {
  let after: RowKey | null = null;
  if (page.cursor) {
    after = decodeCursor(page.cursor);
    if (after === null)
      throw new RangeError(`cursor ${JSON.stringify(page.cursor)} is not a cursor of this ledger`);
  }
  const { groups, more } = await readGroupPage(env, filter, after, page.limit ?? DEFAULT_PAGE_ROWS);
  const last = groups[groups.length - 1];
  return { rows: groups.map(toRow), next: more && last ? encodeCursor(keyOf(last)) : null };
}

/**
 * One fingerprint's row groups in the filter, in the read order. Without a region the
 * row's shard is not known in advance, so it asks all 16; in each it is one range of the
 * `exposure_customer` index (that fingerprint's rows only). With a region, one shard.
 */
export async function readFingerprintGroups(
  env: ControlEnv,
  fingerprint: string,
  filter: LedgerFilter,
): Promise<{ groups: LedgerGroup[]; capped: LedgerCappedDay[] }> {
  const parts = await fanOut(env, shardsFor(filter.region), (s) => s.forFingerprint(fingerprint, filter));
  return {
    groups: parts.flatMap((p) => p.groups).sort((a, b) => compareKeys(keyOf(a), keyOf(b))),
    capped: parts.flatMap((p) => p.capped),
  };
}

/** The (day, code) pairs of the filter in which some customer went to `overflow`. */
export async function readCappedDays(env: ControlEnv, filter: LedgerFilter): Promise<LedgerCappedDay[]> {
  const parts = await fanOut(env, shardsFor(filter.region), (s) => s.capped(filter));
  return parts.flat();
}

/** Per-region totals over the filter, by region code. A region lives in one shard: exact. */
export async function readRegionSummary(
  env: ControlEnv,
  filter: LedgerFilter,
): Promise<LedgerRegionSummary[]> {
  const parts = await fanOut(env, shardsFor(filter.region), (s) => s.summary(filter));
  return parts.flat().sort((a, b) => compareText(a.region, b.region));
}

/** Per region, its distinct verified customers (key fingerprints), by region. */
export async function readVerifiedCustomers(
  env: ControlEnv,
  filter: LedgerFilter,
): Promise<LedgerVerifiedCustomers[]> {
  const parts = await fanOut(env, shardsFor(filter.region), (s) => s.verifiedCustomers(filter));
  return parts.flat().sort((a, b) => compareText(a.region, b.region));
}

/** Per (region, day) requests and distinct customers, by region then day. */
export async function readRegionDays(env: ControlEnv, filter: LedgerFilter): Promise<LedgerRegionDay[]> {
  const parts = await fanOut(env, shardsFor(filter.region), (s) => s.regionDays(filter));
  return parts.flat().sort((a, b) => compareText(a.region, b.region) || compareText(a.day, b.day));
}

/** The `n` busiest customers of each region, by region then requests (most first). */
export async function readTopCustomers(
  env: ControlEnv,
  filter: LedgerFilter,
  n = 10,
): Promise<LedgerTopCustomer[]> {
  const parts = await fanOut(env, shardsFor(filter.region), (s) => s.top(filter, n));
  return parts.flat().sort((a, b) => compareText(a.region, b.region) || b.requests - a.requests);
}

/**
 * The `n` busiest networks of each region (`other` ranked last), by region then rank. A
 * region lives in one shard, so each region's list is exact.
 */
export async function readTopNetworks(
  env: ControlEnv,
  filter: LedgerFilter,
  n = 5,
): Promise<LedgerTopNetwork[]> {
  const parts = await fanOut(env, shardsFor(filter.region), (s) => s.topNetworks(filter, n));
  // Each shard's part is already in rank order per region; a stable sort by region keeps it.
  return parts.flat().sort((a, b) => compareText(a.region, b.region));
}

/** Size and load of every shard. */
export async function readShardStats(env: ControlEnv): Promise<Array<ShardStats & { shard: number }>> {
  const all = Array.from({ length: SHARDS }, (_, i) => i);
  const parts = await fanOut(env, all, (s) => s.stats());
  return parts.map((stats, shard) => ({ shard, ...stats }));
}
