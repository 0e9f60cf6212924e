/**
 * What the dashboard reads: per-region summaries, per-day series and the top customers,
 * computed in SQL in each ledger shard (src/control/ledger/client.ts), never every row; and the
 * CSV download, streamed page by page in the format of `GET /__region-gate/exposure`.
 */

import {
  type LedgerFilter,
  type LedgerRegionDay,
  type LedgerRegionSummary,
  type LedgerTopCustomer,
  type LedgerTopNetwork,
  parseIdentity,
} from "../../exposure/wire";
import type { ControlEnv } from "../../platform/config";
import {
  readExposure,
  readRegionDays,
  readRegionSummary,
  readTopCustomers,
  readTopNetworks,
} from "../ledger/client";
import { identityText, MAX_PAGE_ROWS, type ReportNetwork, reportNetwork, rowsCsv } from "../ledger/report";
import { DAY_MS } from "../ui/phase";

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
  /** The networks its traffic came through, most requests first, `other` last. */
  networks: ReportNetwork[];
}

/** A region's top customer as the page shows it: `identity` is `name=value;…` as in the CSV, not the ledger's JSON. */
export type CustomerTotal = Omit<LedgerTopCustomer, "region">;

/**
 * Per-region totals, series, top customers and top networks from the ledger's summary
 * reads, busiest region first. A customer is a distinct (fingerprint, identity).
 */
export function byRegion(
  summary: readonly LedgerRegionSummary[],
  perDay: readonly LedgerRegionDay[],
  top: readonly LedgerTopCustomer[],
  days: readonly string[],
  networks: readonly LedgerTopNetwork[] = [],
): RegionExposure[] {
  const index = new Map(days.map((d, i) => [d, i]));
  const regions = new Map<string, RegionExposure>();
  for (const s of summary) {
    regions.set(s.region, {
      region: s.region,
      requests: s.requests,
      blocked: s.blocked,
      customers: s.customers,
      requestsPerDay: days.map(() => 0),
      customersPerDay: days.map(() => 0),
      top: [],
      networks: [],
    });
  }
  for (const d of perDay) {
    const r = regions.get(d.region);
    const i = index.get(d.day);
    if (!r || i === undefined) continue;
    r.requestsPerDay[i] = d.requests;
    r.customersPerDay[i] = d.customers;
  }
  for (const t of top) {
    regions.get(t.region)?.top.push({
      fingerprint: t.fingerprint,
      identity: identityText(parseIdentity(t.identity)),
      requests: t.requests,
      blocked: t.blocked,
      days: t.days,
      lastDay: t.lastDay,
    });
  }
  for (const n of networks) regions.get(n.region)?.networks.push(reportNetwork(n));
  return [...regions.values()].sort((a, b) => b.requests - a.requests || (a.region < b.region ? -1 : 1));
}

/** The exposure page's data: four summary reads per shard, whatever the number of rows. */
export async function readRegionExposure(
  env: ControlEnv,
  filter: LedgerFilter,
  days: readonly string[],
  topN = 10,
  topNetworks = 5,
): Promise<RegionExposure[]> {
  const [summary, perDay, top, networks] = await Promise.all([
    readRegionSummary(env, filter),
    readRegionDays(env, filter),
    readTopCustomers(env, filter, topN),
    readTopNetworks(env, filter, topNetworks),
  ]);
  return byRegion(summary, perDay, top, days, networks);
}

/**
 * The rows CSV of `filter`, byte for byte `GET /exposure?format=csv` pages joined (one
 * header), read one page at a time as the download is consumed.
 */
export function exposureCsvStream(env: ControlEnv, filter: LedgerFilter): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | null = null;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const page = await readExposure(env, filter, { limit: MAX_PAGE_ROWS, cursor });
      controller.enqueue(encoder.encode(rowsCsv(page.rows, !started)));
      started = true;
      cursor = page.next;
      if (cursor === null) controller.close();
    },
  });
}
