/**
 * What the dashboard reads: the ledger through the same shard stubs and report functions
 * as `GET /__region-gate/exposure` (so the CSV here is byte for byte the CLI's), and
 * per-day series and top-customer lists computed from those rows.
 */
import type { LedgerFilter } from "../ledger/ledger-do";
import { shardStub, shardsFor } from "../ledger/model";
import { type ExposureRow, identityText, toRows } from "../ledger/report";
import { DAY_MS } from "./phase";

/** Ledger rows in `filter`, read from every shard (or the region's one). */
export async function readRows(env: Env, filter: LedgerFilter): Promise<ExposureRow[]> {
  const shards = shardsFor(filter.region);
  const groups = await Promise.all(shards.map((s) => shardStub(env, s).rows(filter)));
  return toRows(groups.flat());
}

/** Every UTC day from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export interface RegionExposure {
  region: string;
  requests: number;
  blocked: number;
  /** Distinct customers (fingerprint + identity) over the whole range. */
  customers: number;
  /** Per day of `days`: requests, and distinct customers. */
  requestsPerDay: number[];
  customersPerDay: number[];
  top: CustomerTotal[];
}

export interface CustomerTotal {
  fingerprint: string;
  identity: string;
  requests: number;
  blocked: number;
  days: number;
  lastDay: string;
}

/**
 * Per-region series and totals, busiest region first. A customer is a distinct
 * (fingerprint, identity), as in the ledger's own summary.
 */
export function byRegion(rows: readonly ExposureRow[], days: readonly string[], topN = 10): RegionExposure[] {
  const index = new Map(days.map((d, i) => [d, i]));
  const regions = new Map<
    string,
    { r: RegionExposure; customers: Map<string, CustomerTotal>; perDay: Set<string>[] }
  >();
  for (const row of rows) {
    const i = index.get(row.day);
    let entry = regions.get(row.region);
    if (!entry) {
      entry = {
        r: {
          region: row.region,
          requests: 0,
          blocked: 0,
          customers: 0,
          requestsPerDay: days.map(() => 0),
          customersPerDay: [],
          top: [],
        },
        customers: new Map(),
        perDay: days.map(() => new Set<string>()),
      };
      regions.set(row.region, entry);
    }
    const identity = identityText(row.identity);
    const who = `${row.fingerprint} ${identity}`;
    entry.r.requests += row.requests;
    entry.r.blocked += row.blocked;
    if (i !== undefined) {
      entry.r.requestsPerDay[i] = (entry.r.requestsPerDay[i] ?? 0) + row.requests;
      entry.perDay[i]?.add(who);
    }
    const c = entry.customers.get(who) ?? {
      fingerprint: row.fingerprint,
      identity,
      requests: 0,
      blocked: 0,
      days: 0,
      lastDay: row.day,
    };
    c.requests += row.requests;
    c.blocked += row.blocked;
    c.days += 1;
    if (row.day > c.lastDay) c.lastDay = row.day;
    entry.customers.set(who, c);
  }
  return [...regions.values()]
    .map(({ r, customers, perDay }) => ({
      ...r,
      customers: customers.size,
      customersPerDay: perDay.map((s) => s.size),
      top: [...customers.values()]
        .sort((a, b) => b.requests - a.requests || (a.fingerprint < b.fingerprint ? -1 : 1))
        .slice(0, topN),
    }))
    .sort((a, b) => b.requests - a.requests || (a.region < b.region ? -1 : 1));
}
